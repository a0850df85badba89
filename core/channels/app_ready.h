/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for the app to listen: the part of the app channel that does not depend on its protocol. */
#ifndef OUTRIG_CORE_APP_READY_H
#define OUTRIG_CORE_APP_READY_H

struct app_channel;

/*
 * Calls ready(arg) once a TCP connection to the app succeeds, trying every 100 ms as daprd
 * does; logs once a while that it is still waiting. Several callers may wait (one probe serves
 * them all; they are called in the order they asked); once the app answered, ready is called
 * at once. Thread: the event loop.
 */
void app_channel_wait_ready(struct app_channel *ch, void (*ready)(void *arg), void *arg);

#endif /* OUTRIG_CORE_APP_READY_H */
