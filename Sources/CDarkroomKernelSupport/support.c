// Header-only support for the resampling kernels (see include/CDarkroomKernelSupport.h).
#include "CDarkroomKernelSupport.h"
