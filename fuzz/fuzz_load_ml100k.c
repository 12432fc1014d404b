/* libFuzzer target: the ml100k rating loader (recnn_dataset_load with
 * RECNN_FORMAT_ML100K) on arbitrary bytes.  Seeds: fuzz/corpus/fuzz_load_ml100k/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(fuzz_file(data, size, "ml100k"), RECNN_FORMAT_ML100K, NULL);
    return 0;
}
