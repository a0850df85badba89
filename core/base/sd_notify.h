/* SPDX-License-Identifier: Apache-2.0 */
/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram per state change. */
#ifndef OUTRIG_CORE_SD_NOTIFY_H
#define OUTRIG_CORE_SD_NOTIFY_H

/*
 * Sends state ("READY=1", "STOPPING=1", several "NAME=value" lines joined by '\n') as one
 * datagram to the AF_UNIX socket named by $NOTIFY_SOCKET: a path, or an abstract address written
 * with a leading '@'. Without $NOTIFY_SOCKET it does nothing and returns 0. Returns 0, or a
 * negative errno when the socket is malformed or the datagram cannot be sent (the caller logs it:
 * the service manager then never hears the news).
 * Thread: any.
 */
int sd_notify_send(const char *state);

/* "RELOADING=1" with "MONOTONIC_USEC=" now on CLOCK_MONOTONIC, as Type=notify-reload requires. */
int sd_notify_reloading(void);

#endif /* OUTRIG_CORE_SD_NOTIFY_H */
