/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a pubsub.mqtt3 component: Dapr's field names, the URL, the client id, TLS files. */
#ifndef OUTRIG_MQTT_OPTIONS_H
#define OUTRIG_MQTT_OPTIONS_H

#include <stdbool.h>

#include <outrig/plugin.h>

extern const struct outrig_field mq_fields[];

/* What create() keeps of the metadata; every string is the plugin's own copy. */
struct mq_options {
	char *server_uri; /* for paho: tcp://host:port or ssl://host:port */
	char *where;	  /* the URL as messages show it: scheme, user, host, port; never the password */
	char *username;	  /* NULL: none */
	char *password;	  /* NULL: none */
	bool tls;
	char *client_id;
	bool generated_id; /* no consumerID and no app id: a random one, so no lasting session */
	int qos;
	bool retain;
	bool clean_session;
	char *ca_file; /* PEM files written from caCert, clientCert, clientKey; NULL: not given */
	char *cert_file;
	char *key_file;
	char *spool_path; /* data_dir/pubsub_mqtt3/<component>-<client id>.db */
};

/*
 * Reads and checks cfg, writes the PEM files and picks the spool's path. Returns 0 or
 * OUTRIG_EINVAL / OUTRIG_ENOMEM / OUTRIG_EINTERNAL with err set; o is freed on failure.
 * Ownership: o's strings are the caller's, freed with mq_options_free(). Thread: create().
 */
int mq_options_parse(const struct outrig_config *cfg, const struct outrig_host *host, struct mq_options *o,
		     struct outrig_error *err);

/* Frees o's strings and removes the PEM files it wrote (they hold secrets). Thread: any. */
void mq_options_free(struct mq_options *o);

/* "true"/"false" as Dapr reads a bool (also 1/0, yes/no, on/off; any case). */
bool mq_parse_bool(const char *text, bool *out);

#endif /* OUTRIG_MQTT_OPTIONS_H */
