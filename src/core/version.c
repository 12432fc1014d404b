#include "core.h"

#define STR2(x) #x
#define STR(x) STR2(x)

RECNN_API const char *recnn_version(void)
{
    return STR(RECNN_VERSION_MAJOR) "." STR(RECNN_VERSION_MINOR) "." STR(
        RECNN_VERSION_PATCH);
}

RECNN_API int recnn_version_number(void) { return RECNN_VERSION_NUMBER; }

RECNN_API int recnn_check_version(int header_major, int header_minor)
{
    if (header_major != RECNN_VERSION_MAJOR || header_minor > RECNN_VERSION_MINOR)
        return recnn__fail(RECNN_E_VERSION,
                           "compiled against librecnn %d.%d headers but running "
                           "with library %s",
                           header_major, header_minor, recnn_version());
    return RECNN_OK;
}
