/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input bindings as the app sees them (API.md §4.2): asking whether it wants a binding's events
 * and delivering one event, without the caller knowing the app's protocol. Today this speaks
 * HTTP (OPTIONS and POST /{route}); a gRPC app (ListInputBindings, OnBindingEvent) comes here.
 */
#ifndef OUTRIG_CORE_APP_BINDINGS_H
#define OUTRIG_CORE_APP_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/metadata.h>

struct app_channel;

/* The app's answer to "do you want this binding's events?". */
enum app_binding_want {
	APP_BINDING_WANTED,
	APP_BINDING_DECLINED,  /* it answered no */
	APP_BINDING_NO_ANSWER, /* the question failed: refused, reset, timed out, a broken answer */
};

/*
 * Told the answer. detail is NULL when wanted, else a clause for the log saying what the app
 * did and, when it declined, what to change ("the app answered OPTIONS /orders with HTTP 404
 * (serve POST /orders, ...)"). Ownership: detail is valid during the call. Thread: the loop.
 */
typedef void (*app_bindings_asked_fn)(void *arg, enum app_binding_want want, const char *detail);

/*
 * Asks the app whether it wants the events of the input binding that delivers to route ("/"
 * + the binding's route); cb is called once, unless the channel is freed first. Over HTTP: OPTIONS
 * route, where 2xx or 405 (what many frameworks answer to OPTIONS) means yes.
 * Returns 0, or -1 when out of memory (cb is then never called). Thread: the loop.
 */
int app_bindings_ask(struct app_channel *ch, const char *route, app_bindings_asked_fn cb, void *arg);

/*
 * Told how one delivery ended: acknowledged, or why not (a clause for the log, "the app answered
 * HTTP 500"). Ownership: why is valid during the call. Thread: the loop.
 */
typedef void (*app_bindings_delivered_fn)(void *arg, bool acknowledged, const char *why);

/*
 * Delivers one event (data, len bytes) with its metadata to route; cb is called once, unless the
 * channel is freed first. Over HTTP: POST route, the metadata as headers (Content-Type from its
 * content-type entry, else application/json; names that describe the HTTP message itself and
 * values it cannot carry are left out), acknowledged by a 2xx.
 * Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: everything passed is copied. Thread: the loop.
 */
int app_bindings_deliver(struct app_channel *ch, const char *route, const struct outrig_metadata *md,
			 const void *data, size_t len, app_bindings_delivered_fn cb, void *arg);

/* How the channel names the question about route, for logs: "OPTIONS /orders". Returns buf. */
const char *app_bindings_ask_name(const struct app_channel *ch, const char *route, char *buf, size_t size);

/* How the channel names a delivery to route, for logs: "POST /orders". Returns buf. */
const char *app_bindings_deliver_name(const struct app_channel *ch, const char *route, char *buf,
				      size_t size);

#endif /* OUTRIG_CORE_APP_BINDINGS_H */
