/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: secretstores.local.file's flattening of the secrets file, both modes. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "secret_flatten.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As the plugin reads the file: json_load_file with no flags, an object at the top. */
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	static const char *const seps[] = { ":", "", "::" };

	if (!json_is_object(doc)) {
		json_decref(doc);
		return 0;
	}
	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		json_t *single = json_object(), *multi = json_object();
		struct outrig_error err = { 0 };

		lf_flatten_single(doc, single, seps[i], &err);
		lf_flatten_multi(doc, multi, seps[i], &err);
		json_decref(single);
		json_decref(multi);
	}
	json_decref(doc);
	return 0;
}
