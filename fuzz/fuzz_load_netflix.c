/* libFuzzer target: the netflix rating loader (recnn_dataset_load with
 * RECNN_FORMAT_NETFLIX) on arbitrary bytes.  Seeds: fuzz/corpus/fuzz_load_netflix/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(fuzz_file(data, size, "netflix"), RECNN_FORMAT_NETFLIX, NULL);
    return 0;
}
