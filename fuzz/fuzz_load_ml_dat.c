/* libFuzzer target: the ml_dat rating loader (recnn_dataset_load with
 * RECNN_FORMAT_ML_DAT) on arbitrary bytes.  Seeds: fuzz/corpus/fuzz_load_ml_dat/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(fuzz_file(data, size, "ml_dat"), RECNN_FORMAT_ML_DAT, NULL);
    return 0;
}
