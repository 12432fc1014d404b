/* libFuzzer target: the generic delimited-text loader.  The first 4 bytes
 * choose the options (delimiter, columns, header, string ids, duplicate
 * policy); the rest is the file.  Seeds: fuzz/corpus/fuzz_load_generic/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    static const char *const delims[8] = {",", "\t", ";", "::", "|", " ", "ab", ", "};
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.delimiter = delims[data[0] & 7];
    o.header = data[0] >> 3 & 1;
    o.string_ids = data[0] >> 4 & 1;
    o.dup_policy = (data[0] >> 5) % 3;
    o.user_col = data[1] & 3;
    o.item_col = data[1] >> 2 & 3;
    o.rating_col = (data[1] >> 4 & 3) == 3 ? -1 : data[1] >> 4 & 3; /* -1: implicit */
    o.time_col = (data[2] & 7) > 4 ? -1 : data[2] & 7;
    o.n_fields = data[2] >> 3 & 7;
    if (data[3] & 1) {
        o.scale_min = (float)(data[3] >> 1 & 7);
        o.scale_max = o.scale_min + (float)(data[3] >> 4);
    }
    fuzz_load(fuzz_file(data + 4, size - 4, "generic"), RECNN_FORMAT_GENERIC, &o);
    return 0;
}
