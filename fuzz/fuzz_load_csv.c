/* libFuzzer target: the csv rating loader (recnn_dataset_load with
 * RECNN_FORMAT_CSV) on arbitrary bytes.  Seeds: fuzz/corpus/fuzz_load_csv/. */
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(fuzz_file(data, size, "csv"), RECNN_FORMAT_CSV, NULL);
    return 0;
}
