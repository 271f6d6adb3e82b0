#!/usr/bin/env python3
"""darkroom-server with the official OpenAI Python SDK as the client (scripts/openai-sdk-test.sh runs it).

Usage: openai-sdk-test.py BASE_URL   (e.g. http://127.0.0.1:8080/v1; the server started with
--max-body-bytes 8000000, as the wrapper does)

Only the SDK and `base_url`: `client.post` with the SDK's own multipart encoding against
/v1/images/convert and /v1/images/references, and `client.images.edit(image=[...], model=...,
extra_body={...})` through a client whose base_url is the server's /convert/v1 (its /images/edits is /images/convert; as a
gateway mounting Darkroom behind an edits-shaped path would). Asserts the bytes (format sniffed
from them, dimensions read from their headers, the quality's effect on their size), OpenAI's
response fields, Darkroom's block, and that bad values raise the SDK's exception class with
`e.code`, `e.param`, `e.type` and `e.request_id`. Exits non-zero on the first failure.
"""
import base64
import struct
import sys
from pathlib import Path

import httpx2
import openai
from openai._base_client import make_request_options
from openai.types import ImagesResponse

ROOT = Path(__file__).resolve().parent.parent
JPEG = (ROOT / "testimages/kodim23.jpg").read_bytes()  # 768 x 512
PNG = (ROOT / "testimages/rgba.png").read_bytes()  # 32 x 32, alpha
MULTIPART = make_request_options(extra_headers={"Content-Type": "multipart/form-data"})
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise SystemExit(f"openai-sdk-test: FAILED: {what}")


def sniff(data):
    """The format of image bytes, from their first bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "avif"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def dimensions(data):
    """(width, height) read from the header of a PNG, JPEG, WebP, AVIF or GIF."""
    kind = sniff(data)
    if kind == "png":
        return struct.unpack(">II", data[16:24])
    if kind == "gif":
        return struct.unpack("<HH", data[6:10])
    if kind == "jpeg":
        i = 2
        while i < len(data):
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    if kind == "webp":
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
    if kind == "avif":
        i = data.find(b"ispe")
        return struct.unpack(">II", data[i + 8:i + 16])
    raise SystemExit(f"openai-sdk-test: cannot read the size of a {kind} image")


def images(response):
    return [base64.b64decode(item.b64_json) for item in response.data]


def post(client, path, fields, files, cast_to=ImagesResponse):
    """`client.post` with the multipart encoding the SDK uses for images.edit."""
    return client.post(path, cast_to=cast_to, body=fields, files=files, options=MULTIPART)


def expect_error(call, exception, status, code, param, type_="invalid_request_error"):
    try:
        call()
    except openai.APIStatusError as e:
        check(type(e) is exception, f"{code}: raised {type(e).__name__}, expected {exception.__name__}")
        check(e.status_code == status, f"{code}: status {e.status_code}, expected {status}")
        check(e.code == code, f"{code}: e.code is {e.code!r}")
        check(e.param == param, f"{code}: e.param is {e.param!r}, expected {param!r}")
        check(e.type == type_, f"{code}: e.type is {e.type!r}")
        check(isinstance(e.body, dict) and set(e.body) == {"message", "type", "param", "code"},
              f"{code}: the envelope's keys are {e.body!r}")
        check(bool(e.request_id), f"{code}: no request id (x-request-id)")
        return e
    raise SystemExit(f"openai-sdk-test: FAILED: {code}: no exception")


def main():
    base_url = sys.argv[1]
    client = openai.OpenAI(base_url=base_url, api_key="test-key", max_retries=0, timeout=120)

    # 1. One image, converted and fitted; OpenAI's fields and Darkroom's block.
    r = post(client, "/images/convert", {"output_format": "webp", "output_compression": 80, "size": "384x384"},
             [("image", ("kodim23.jpg", JPEG, "image/jpeg"))])
    (webp,) = images(r)
    check(sniff(webp) == "webp", "convert: output is WebP")
    check(dimensions(webp) == (384, 256), f"convert: fitted within 384x384: {dimensions(webp)}")
    check(r.output_format == "webp" and r.size == "384x256", f"convert: output_format/size {r.output_format} {r.size}")
    darkroom = r.model_extra["darkroom"]
    check(darkroom["quality"] == 80 and darkroom["images"][0]["billed_mp"] == 1, f"convert: darkroom block {darkroom}")
    check(darkroom["images"][0]["bytes"] == len(webp), "convert: darkroom bytes")

    # 2. images.edit with a list of images (sent as image[] parts), nothing but base_url: the
    #    server's /convert/v1/images/edits is /v1/images/convert; extra_body for Darkroom's own fields.
    root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
    edits = openai.OpenAI(base_url=root + "/convert/v1", api_key="test-key", max_retries=0, timeout=120)
    r = edits.images.edit(image=[("a.jpg", JPEG, "image/jpeg"), ("b.png", PNG, "image/png")], prompt="convert",
                          model="gpt-image-2", output_format="png", extra_body={"background": "opaque"})
    out = images(r)
    check([sniff(b) for b in out] == ["png", "png"], "edit: two PNGs")
    check([dimensions(b) for b in out] == [(768, 512), (32, 32)], f"edit: sizes {[dimensions(b) for b in out]}")
    check(out[1][25] == 2, "edit: background=opaque flattened the alpha (PNG colour type 2)")
    r = edits.images.edit(image=[("a.jpg", JPEG, "image/jpeg")], prompt="convert", model="gpt-image-2",
                          extra_body={"output_format": "avif", "output_compression": 50})
    check(sniff(images(r)[0]) == "avif" and r.output_format == "avif", "edit: extra_body output_format=avif")
    r = edits.images.edit(image=[("a.jpg", JPEG, "image/jpeg")], prompt="convert", output_format="webp",
                          output_compression=70, size="384x384")
    check(sniff(images(r)[0]) == "webp" and dimensions(images(r)[0]) == (384, 256) and r.size == "384x256",
          f"edit: the SDK's own output_format, output_compression and size ({r.size})")
    check(r.model_extra["darkroom"]["quality"] == 70, "edit: quality 70 used")
    references = openai.OpenAI(base_url=root + "/references/v1", api_key="test-key", max_retries=0, timeout=120)
    r = references.images.edit(image=[("a.jpg", JPEG, "image/jpeg"), ("b.png", PNG, "image/png")], prompt="prepare",
                               extra_body={"format": "png"})
    check([sniff(b) for b in images(r)] == ["png", "png"], "references via images.edit: two PNGs")

    # 3. The quality: reported (header and JSON) and visible in the bytes.
    sizes = {}
    for quality in (95, 30):
        raw = edits.images.with_raw_response.edit(image=[("a.jpg", JPEG, "image/jpeg")], prompt="x", model="gpt-image-2",
                                                  output_format="jpeg", output_compression=quality)
        check(raw.headers["darkroom-quality"] == str(quality) and raw.headers["darkroom-format"] == "jpeg",
              f"quality: headers {raw.headers.get('darkroom-quality')}")
        parsed = raw.parse()
        check(parsed.model_extra["darkroom"]["quality"] == quality, "quality: JSON")
        sizes[quality] = len(images(parsed)[0])
    check(sizes[30] < sizes[95] * 0.6, f"quality: 30 gives fewer bytes than 95: {sizes}")
    raw = edits.images.with_raw_response.edit(image=[("a.jpg", JPEG, "image/jpeg")], prompt="x", model="gpt-image-2",
                                              output_format="webp")
    check(raw.headers["darkroom-quality"] == "100", "quality: OpenAI's default, 100, said so")
    check(raw.request_id and raw.headers["x-request-id"] == raw.request_id, "request id: x-request-id")

    # 4. References: over 4 MP scaled to 4 MP, billed per image, the mask resized as the first image.
    big = client.post("/convert?resize=2600x1734!&output_format=jpeg&output_compression=90", cast_to=httpx2.Response,
                      content=JPEG, options=make_request_options(extra_headers={"Content-Type": "application/octet-stream"})).content
    mask = client.post("/convert?output_format=png", cast_to=httpx2.Response, content=big,
                       options=make_request_options(extra_headers={"Content-Type": "application/octet-stream"})).content
    check(dimensions(big) == (2600, 1734) and dimensions(mask) == (2600, 1734), "references: test inputs")
    r = post(client, "/images/references", {},
             [("image[]", ("big.jpg", big, "image/jpeg")), ("image[]", ("small.jpg", JPEG, "image/jpeg")),
              ("image[]", ("bad.jpg", b"not an image", "image/jpeg")), ("mask", ("mask.png", mask, "image/png"))])
    check(r.data[0].b64_json and r.data[1].b64_json and r.data[2].b64_json is None, "references: per-image results")
    first = base64.b64decode(r.data[0].b64_json)
    w, h = dimensions(first)
    check(w * h <= 4_194_304 and (w, h) == (2507, 1672), f"references: 4.5 MP scaled to 4 MP: {w}x{h}")
    error = r.data[2].model_extra["error"]
    check(error["param"] == "image[2]" and error["code"] == "invalid_image_format", f"references: per-image error {error}")
    details = r.model_extra["darkroom"]
    check([d.get("billed_mp") for d in details["images"][:2]] == [4, 1] and details["billed_mp"] == 5,
          f"references: billing {details['billed_mp']}")
    masked = base64.b64decode(r.model_extra["mask"]["b64_json"])
    check(sniff(masked) == "png" and dimensions(masked) == (w, h), f"references: mask {dimensions(masked)} like image[0]")
    expect_error(lambda: post(client, "/images/references", {},
                              [("image", ("a.jpg", JPEG, "image/jpeg")), ("mask", ("m.png", PNG, "image/png"))]),
                 openai.BadRequestError, 400, "mask_size_mismatch", "mask")
    expect_error(lambda: post(client, "/images/references", {"all_or_nothing": "true"},
                              [("image[]", ("a.jpg", JPEG, "image/jpeg")), ("image[]", ("b.jpg", b"junk", "image/jpeg"))]),
                 openai.BadRequestError, 400, "invalid_image_format", "image[1]")

    # 5. Errors: the SDK's exception class, e.code, e.param, e.type.
    one = [("image", ("kodim23.jpg", JPEG, "image/jpeg"))]
    expect_error(lambda: edits.images.edit(image=[("a.jpg", JPEG, "image/jpeg")], prompt="x", model="gpt-image-2",
                                           output_format="bmp"),
                 openai.BadRequestError, 400, "invalid_value", "output_format")
    expect_error(lambda: post(client, "/images/convert", {"output_compression": 101}, one),
                 openai.BadRequestError, 400, "integer_above_max_value", "output_compression")
    expect_error(lambda: post(client, "/images/convert", {"output_compression": "+80"}, one),
                 openai.BadRequestError, 400, "invalid_type", "output_compression")
    expect_error(lambda: post(client, "/images/convert", {"output_compression": 50, "strict": "true"}, one),
                 openai.BadRequestError, 400, "invalid_png_output_compression", None, "image_generation_user_error")
    expect_error(lambda: post(client, "/images/convert", {"output_fromat": "webp"}, one),
                 openai.BadRequestError, 400, "unknown_parameter", "output_fromat")
    expect_error(lambda: post(client, "/images/convert", {}, [("image[]", ("a.jpg", JPEG, "image/jpeg")),
                                                              ("image[]", ("b.jpg", JPEG[: len(JPEG) // 2], "image/jpeg"))]),
                 openai.BadRequestError, 400, "invalid_image", "image[1]")
    expect_error(lambda: post(client, "/images/convert", {"output_format": "png"}, []),
                 openai.BadRequestError, 400, "missing_required_parameter", "image")
    expect_error(lambda: post(client, "/images/convert", {"size": "16000x16000"}, [("image", ("p.png", PNG, "image/png"))]),
                 openai.BadRequestError, 400, "upscale_too_large", "size")
    e = expect_error(lambda: post(client, "/images/convert", {}, [("image", ("huge.bin", b"\0" * 9_000_000, "image/png"))]),
                     openai.APIStatusError, 413, "body_too_large", None)
    expect_error(lambda: client.get("/images/nothing", cast_to=httpx2.Response),
                 openai.NotFoundError, 404, "not_found", None)
    e = expect_error(lambda: client.get("/images/convert", cast_to=httpx2.Response),
                     openai.APIStatusError, 405, "method_not_allowed", None)
    check(e.response.headers["allow"] == "POST", "405: Allow: POST")
    print(f"openai-sdk-test: {checks} checks passed (openai {openai.__version__}, {base_url})")


if __name__ == "__main__":
    main()
