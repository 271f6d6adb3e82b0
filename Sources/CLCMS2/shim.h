#include <lcms2.h>
// lcms2's TYPE_* pixel formats are macros built from other macros, which Swift does not import.
static const cmsUInt32Number kDarkroomTYPE_RGBA_8 = TYPE_RGBA_8;
static const cmsUInt32Number kDarkroomTYPE_RGB_8 = TYPE_RGB_8;
static const cmsUInt32Number kDarkroomTYPE_RGBA_16 = TYPE_RGBA_16;
static const cmsUInt32Number kDarkroomTYPE_RGB_16 = TYPE_RGB_16;
static const cmsUInt32Number kDarkroomTYPE_GRAY_8 = TYPE_GRAY_8;
static const cmsUInt32Number kDarkroomTYPE_GRAY_16 = TYPE_GRAY_16;
static const cmsUInt32Number kDarkroomTYPE_CMYK_8 = TYPE_CMYK_8;
static const cmsUInt32Number kDarkroomTYPE_CMYK_8_REV = TYPE_CMYK_8_REV;
