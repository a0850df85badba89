/* SPDX-License-Identifier: Apache-2.0 */
/* TCP_NODELAY on paho's broker socket, which paho-mqtt-c 1.3 neither sets nor lets us set. */
#ifndef OUTRIG_MQTT_NODELAY_H
#define OUTRIG_MQTT_NODELAY_H

/*
 * Sets TCP_NODELAY on every TCP socket of this process whose peer is on the port of server_uri
 * ("tcp://host:port"). Call after each successful connect. Thread: any.
 */
void mq_nodelay_broker_sockets(const char *server_uri);

#endif /* OUTRIG_MQTT_NODELAY_H */
