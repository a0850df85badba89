/* SPDX-License-Identifier: Apache-2.0 */
/* The name of an evhttp request method, shared by the HTTP front end and the channel to the app. */
#ifndef OUTRIG_CORE_HTTP_METHOD_H
#define OUTRIG_CORE_HTTP_METHOD_H

#include <event2/http.h>

/* "GET", "POST", ... for cmd, or unknown for a method evhttp has and this list has not. Thread: any. */
const char *http_method_name(enum evhttp_cmd_type cmd, const char *unknown);

#endif /* OUTRIG_CORE_HTTP_METHOD_H */
