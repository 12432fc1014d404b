/* libFuzzer target: the auto rating loader (recnn_dataset_load with
 * RECNN_FORMAT_AUTO) on arbitrary bytes.  Seeds: fuzz/corpus/fuzz_load_auto/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(fuzz_file(data, size, "auto"), RECNN_FORMAT_AUTO, NULL);
    return 0;
}
