/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a bindings.kafka / pubsub.kafka component: Dapr's names, checked, as librdkafka settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kafka_options.h"

/* Dapr's names and defaults (components-contrib common/component/kafka), so its files load unchanged. */
const struct outrig_field kf_fields[] = {
	{ "brokers", OUTRIG_FIELD_STRING, NULL, true, "comma-separated host:port list of Kafka brokers" },
	/* Required unless the deprecated authRequired is set, from which daprd derives it. */
	{ "authType", OUTRIG_FIELD_STRING, NULL, false, "none, password (SASL) or mtls" },
	{ "authRequired", OUTRIG_FIELD_STRING, NULL, false,
	  "deprecated form of authType: false is none; true is password with saslPassword, else mtls" },
	{ "topics", OUTRIG_FIELD_STRING, NULL, false,
	  "bindings: comma-separated topics the input binding reads" },
	{ "consumerGroup", OUTRIG_FIELD_STRING, NULL, false,
	  "consumer group of inputs and subscriptions (default: consumerID)" },
	{ "consumerID", OUTRIG_FIELD_STRING, NULL, false,
	  "consumer group when consumerGroup is not set (pub/sub: default the app id)" },
	{ "publishTopic", OUTRIG_FIELD_STRING, NULL, false, "bindings: topic the output binding writes to" },
	{ "initialOffset", OUTRIG_FIELD_STRING, "newest", false,
	  "where a group without a committed offset starts: newest or oldest" },
	{ "clientID", OUTRIG_FIELD_STRING, "sarama", false, "client id the brokers see" },
	{ "saslUsername", OUTRIG_FIELD_STRING, NULL, false, "user name (authType password)" },
	{ "saslPassword", OUTRIG_FIELD_STRING, NULL, false, "password (authType password)" },
	{ "saslMechanism", OUTRIG_FIELD_STRING, "PLAIN", false, "PLAIN, SHA-256 or SHA-512 (SCRAM)" },
	{ "disableTls", OUTRIG_FIELD_BOOL, "false", false,
	  "talk plain TCP even with authType password (TLS is never used with authType none)" },
	{ "skipVerify", OUTRIG_FIELD_BOOL, "false", false,
	  "do not verify the brokers' certificates (unsafe)" },
	{ "caCert", OUTRIG_FIELD_STRING, NULL, false, "PEM certificate(s) to trust (default: the system's)" },
	{ "clientCert", OUTRIG_FIELD_STRING, NULL, false, "PEM client certificate (authType mtls)" },
	{ "clientKey", OUTRIG_FIELD_STRING, NULL, false, "PEM private key of clientCert (authType mtls)" },
	{ "maxMessageBytes", OUTRIG_FIELD_INT, NULL, false, "largest message the producer sends, in bytes" },
	{ "consumeRetryEnabled", OUTRIG_FIELD_BOOL, "false", false,
	  "accepted for Dapr; the sidecar always retries delivery to the app" },
	{ "consumeRetryInterval", OUTRIG_FIELD_DURATION, "100ms", false,
	  "accepted for Dapr; the sidecar's backoff paces retries" },
	{ "heartbeatInterval", OUTRIG_FIELD_DURATION, "3s", false, "consumer group heartbeat interval" },
	{ "sessionTimeout", OUTRIG_FIELD_DURATION, "10s", false,
	  "how long the group waits for a silent member before giving its partitions away" },
	{ "dialTimeout", OUTRIG_FIELD_DURATION, "30s", false, "time allowed to connect to a broker" },
	{ "writeTimeout", OUTRIG_FIELD_DURATION, "30s", false,
	  "how long a publish or create waits for the brokers' acknowledgement before it fails" },
	{ "compression", OUTRIG_FIELD_STRING, NULL, false, "none, gzip, snappy, lz4 or zstd" },
	{ "consumerGroupRebalanceStrategy", OUTRIG_FIELD_STRING, "range", false,
	  "range, roundrobin or sticky (cooperative-sticky)" },
	{ "version", OUTRIG_FIELD_STRING, NULL, false,
	  "accepted for Dapr; librdkafka negotiates the version" },
	{ .name = NULL },
};

static char *kf_dup(const char *s)
{
	return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

int kf_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct outrig_error *err)
{
	char why[512];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
		return outrig_err(err, OUTRIG_EINVAL, "librdkafka refused %s=%s: %s", name, value, why);
	return OUTRIG_OK;
}

/* One setting from a metadata field: the message names the field the user wrote. */
static int kf_set_field(rd_kafka_conf_t *conf, const char *field, const char *name, const char *value,
			struct outrig_error *err)
{
	char why[512];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
		return outrig_err(err, OUTRIG_EINVAL, "metadata %s: librdkafka refused %s: %s", field,
				  strcmp(field, "saslPassword") == 0 || strcmp(field, "clientKey") == 0
					  ? "the value"
					  : value,
				  why);
	return OUTRIG_OK;
}

static int kf_set_ms(rd_kafka_conf_t *conf, const char *field, const char *name, int64_t ms,
		     struct outrig_error *err)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)ms);
	return kf_set_field(conf, field, name, text, err);
}

/* Go's strconv.ParseBool, which daprd reads authRequired with; -1 for anything else. */
static int kf_go_bool(const char *s)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0)
			return 1;
		if (strcmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * authType, or (when it is empty) what daprd's upgradeMetadata derives from the deprecated
 * authRequired: false is none; true is password when saslPassword is set, else mtls.
 */
static int kf_auth_type(const struct outrig_config *cfg, struct kf_options *o, const char **auth,
			struct outrig_error *err)
{
	const char *required = outrig_config_string(cfg, "authRequired", "");
	const char *pass = outrig_config_string(cfg, "saslPassword", "");

	*auth = outrig_config_string(cfg, "authType", "");
	if (**auth != '\0')
		return OUTRIG_OK;
	if (*required == '\0')
		return outrig_err(err, OUTRIG_EINVAL,
				  "authType is not set; set it to none, password or mtls (as Dapr requires)");
	switch (kf_go_bool(required)) {
	case 0: *auth = "none"; break;
	case 1: *auth = *pass != '\0' ? "password" : "mtls"; break;
	default:
		return outrig_err(
			err, OUTRIG_EINVAL,
			"authRequired is \"%s\", not true or false; better, replace it with authType "
			"(none, password or mtls)",
			required);
	}
	o->auth_from_required = *auth;
	return OUTRIG_OK;
}

/* TLS and SASL as Dapr sets them up: none is plain TCP; password is SASL over TLS unless disableTls. */
static int kf_security(const struct outrig_config *cfg, struct kf_options *o, rd_kafka_conf_t *conf,
		       struct outrig_error *err)
{
	const char *auth;
	bool no_tls = outrig_config_int(cfg, "disableTls", 0) != 0;
	const char *ca = outrig_config_string(cfg, "caCert", NULL);
	const char *cert = outrig_config_string(cfg, "clientCert", NULL);
	const char *key = outrig_config_string(cfg, "clientKey", NULL);
	bool tls;
	int rc = kf_auth_type(cfg, o, &auth, err);

	if (rc != OUTRIG_OK)
		return rc;
	if (strcasecmp(auth, "none") == 0) {
		tls = false;
		rc = kf_conf_set(conf, "security.protocol", "plaintext", err);
	} else if (strcasecmp(auth, "password") == 0) {
		const char *user = outrig_config_string(cfg, "saslUsername", NULL);
		const char *pass = outrig_config_string(cfg, "saslPassword", NULL);
		const char *mech = outrig_config_string(cfg, "saslMechanism", "PLAIN");

		if (user == NULL || pass == NULL)
			return outrig_err(
				err, OUTRIG_EINVAL,
				"authType is password%s but %s is not set; set saslUsername and saslPassword",
				o->auth_from_required != NULL ? " (from authRequired: true with saslPassword)"
							      : "",
				user == NULL ? "saslUsername" : "saslPassword");
		if (strcasecmp(mech, "SHA-256") == 0 || strcasecmp(mech, "SCRAM-SHA-256") == 0)
			mech = "SCRAM-SHA-256";
		else if (strcasecmp(mech, "SHA-512") == 0 || strcasecmp(mech, "SCRAM-SHA-512") == 0)
			mech = "SCRAM-SHA-512";
		else if (strcasecmp(mech, "PLAIN") == 0 || *mech == '\0')
			mech = "PLAIN";
		else
			return outrig_err(err, OUTRIG_EINVAL,
					  "saslMechanism is \"%s\"; use PLAIN, SHA-256 or SHA-512", mech);
		tls = !no_tls;
		rc = kf_conf_set(conf, "security.protocol", tls ? "sasl_ssl" : "sasl_plaintext", err);
		if (rc == OUTRIG_OK)
			rc = kf_set_field(conf, "saslMechanism", "sasl.mechanisms", mech, err);
		if (rc == OUTRIG_OK)
			rc = kf_set_field(conf, "saslUsername", "sasl.username", user, err);
		if (rc == OUTRIG_OK)
			rc = kf_set_field(conf, "saslPassword", "sasl.password", pass, err);
	} else if (strcasecmp(auth, "mtls") == 0) {
		if ((cert == NULL) != (key == NULL))
			return outrig_err(
				err, OUTRIG_EINVAL,
				"authType is mtls%s but only %s is set; give clientCert and clientKey both",
				o->auth_from_required != NULL
					? " (from authRequired: true without saslPassword)"
					: "",
				cert != NULL ? "clientCert" : "clientKey");
		tls = true;
		rc = kf_conf_set(conf, "security.protocol", "ssl", err);
		if (rc == OUTRIG_OK && cert != NULL)
			rc = kf_set_field(conf, "clientCert", "ssl.certificate.pem", cert, err);
		if (rc == OUTRIG_OK && key != NULL)
			rc = kf_set_field(conf, "clientKey", "ssl.key.pem", key, err);
	} else {
		return outrig_err(err, OUTRIG_EINVAL,
				  "authType is \"%s\"; this plugin supports none, password and mtls", auth);
	}
	if (rc == OUTRIG_OK && tls && ca != NULL)
		rc = kf_set_field(conf, "caCert", "ssl.ca.pem", ca, err);
	if (rc == OUTRIG_OK && tls && outrig_config_int(cfg, "skipVerify", 0) != 0)
		rc = kf_conf_set(conf, "enable.ssl.certificate.verification", "false", err);
	return rc;
}

/* Settings both clients share. */
static int kf_common(const struct outrig_config *cfg, rd_kafka_conf_t *conf, struct outrig_error *err)
{
	int64_t max_bytes = outrig_config_int(cfg, "maxMessageBytes", 0);
	int rc;

	rc = kf_set_field(conf, "brokers", "bootstrap.servers", outrig_config_string(cfg, "brokers", ""),
			  err);
	if (rc == OUTRIG_OK)
		rc = kf_set_field(conf, "clientID", "client.id",
				  outrig_config_string(cfg, "clientID", "sarama"), err);
	if (rc == OUTRIG_OK)
		rc = kf_set_ms(conf, "dialTimeout", "socket.connection.setup.timeout.ms",
			       outrig_config_int(cfg, "dialTimeout", 30000), err);
	/* A sidecar should find its brokers again soon after an outage, not up to 10 s later. */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "reconnect.backoff.max.ms", "1000", err);
	/* Brokers close idle connections; that is not worth a log line. */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "log.connection.close", "false", err);
	/* Nagle would hold a small produce or fetch back for the peer's delayed ACK. */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "socket.nagle.disable", "true", err);
	/* librdkafka refuses less than 1000; Dapr's documented example is 1024. */
	if (rc == OUTRIG_OK && max_bytes > 0)
		rc = kf_set_ms(conf, "maxMessageBytes", "message.max.bytes",
			       max_bytes < 1000 ? 1000 : max_bytes, err);
	return rc;
}

/* The producer's and the consumer's own settings, checked now on scratch copies so create() reports them. */
static int kf_own(const struct outrig_config *cfg, struct kf_options *o, struct outrig_error *err)
{
	const char *strategy = outrig_config_string(cfg, "consumerGroupRebalanceStrategy", "range");
	const char *compression = outrig_config_string(cfg, "compression", NULL);
	rd_kafka_conf_t *scratch;
	int rc;

	if (strcasecmp(strategy, "sticky") == 0)
		strategy = "cooperative-sticky";
	else if (strcasecmp(strategy, "range") != 0 && strcasecmp(strategy, "roundrobin") != 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "consumerGroupRebalanceStrategy is \"%s\"; use range, roundrobin or sticky",
				  strategy);
	o->strategy = strdup(strategy);
	o->compression = compression != NULL ? strdup(compression) : NULL;
	if (o->strategy == NULL || (compression != NULL && o->compression == NULL))
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	o->heartbeat_ms = outrig_config_int(cfg, "heartbeatInterval", 3000);
	o->session_ms = outrig_config_int(cfg, "sessionTimeout", 10000);
	scratch = rd_kafka_conf_dup(o->base);
	if (scratch == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = kf_options_consumer(o, scratch, err);
	rd_kafka_conf_destroy(scratch);
	if (rc != OUTRIG_OK)
		return rc;
	scratch = rd_kafka_conf_dup(o->base);
	if (scratch == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	rc = kf_options_producer(o, scratch, err);
	rd_kafka_conf_destroy(scratch);
	return rc;
}

int kf_options_consumer(const struct kf_options *o, rd_kafka_conf_t *conf, struct outrig_error *err)
{
	int rc = kf_set_ms(conf, "heartbeatInterval", "heartbeat.interval.ms", o->heartbeat_ms, err);

	if (rc == OUTRIG_OK)
		rc = kf_set_ms(conf, "sessionTimeout", "session.timeout.ms", o->session_ms, err);
	if (rc == OUTRIG_OK)
		rc = kf_set_field(conf, "consumerGroupRebalanceStrategy", "partition.assignment.strategy",
				  o->strategy, err);
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "auto.offset.reset", o->oldest ? "earliest" : "latest", err);
	return rc;
}

int kf_options_producer(const struct kf_options *o, rd_kafka_conf_t *conf, struct outrig_error *err)
{
	int rc = OUTRIG_OK;

	if (o->compression != NULL)
		rc = kf_set_field(conf, "compression", "compression.codec", o->compression, err);
	if (rc == OUTRIG_OK)
		rc = kf_set_ms(conf, "writeTimeout", "message.timeout.ms", o->write_timeout_ms, err);
	/*
	 * Each create waits for its own acknowledgement on a worker, so librdkafka 2's default
	 * 5 ms of batching delay would be paid by every call (measured: 26 ms p50 with 4 workers
	 * queueing behind it). Concurrent calls still share a batch when they meet.
	 */
	if (rc == OUTRIG_OK)
		rc = kf_conf_set(conf, "linger.ms", "0", err);
	return rc;
}

int kf_options_parse(const struct outrig_config *cfg, struct kf_options *o, struct outrig_error *err)
{
	const char *offset = outrig_config_string(cfg, "initialOffset", "newest");
	const char *group = outrig_config_string(cfg, "consumerGroup", NULL);
	int rc;

	memset(o, 0, sizeof(*o));
	o->pubsub = cfg->type != NULL && strncmp(cfg->type, "pubsub.", 7) == 0;
	if (group == NULL)
		group = outrig_config_string(cfg, "consumerID", NULL);
	/* Dapr's runtime gives a pub/sub component the app id as consumerID when none is set. */
	if (group == NULL && o->pubsub && cfg->app_id != NULL && *cfg->app_id != '\0')
		group = cfg->app_id;
	if (strcasecmp(offset, "newest") != 0 && strcasecmp(offset, "oldest") != 0)
		return outrig_err(err, OUTRIG_EINVAL, "initialOffset is \"%s\"; use newest or oldest",
				  offset);
	o->component = strdup(cfg->component != NULL ? cfg->component : "kafka");
	o->brokers = strdup(outrig_config_string(cfg, "brokers", ""));
	o->topics = kf_dup(outrig_config_string(cfg, "topics", NULL));
	o->group = kf_dup(group);
	o->publish_topic = kf_dup(outrig_config_string(cfg, "publishTopic", NULL));
	o->write_timeout_ms = outrig_config_int(cfg, "writeTimeout", 30000);
	o->base = rd_kafka_conf_new();
	if (o->component == NULL || o->brokers == NULL || o->base == NULL) {
		kf_options_free(o);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	if (*o->brokers == '\0') {
		kf_options_free(o);
		return outrig_err(err, OUTRIG_EINVAL,
				  "brokers is empty; give host:port of at least one broker");
	}
	if (o->write_timeout_ms <= 0) {
		kf_options_free(o);
		return outrig_err(err, OUTRIG_EINVAL, "writeTimeout must be more than 0");
	}
	o->oldest = strcasecmp(offset, "oldest") == 0;
	rc = kf_common(cfg, o->base, err);
	if (rc == OUTRIG_OK)
		rc = kf_security(cfg, o, o->base, err);
	if (rc == OUTRIG_OK)
		rc = kf_own(cfg, o, err);
	if (rc != OUTRIG_OK) {
		kf_options_free(o);
		return rc;
	}
	return OUTRIG_OK;
}

void kf_options_free(struct kf_options *o)
{
	free(o->component);
	free(o->brokers);
	free(o->topics);
	free(o->group);
	free(o->publish_topic);
	free(o->strategy);
	free(o->compression);
	if (o->base != NULL)
		rd_kafka_conf_destroy(o->base);
	memset(o, 0, sizeof(*o));
}

void kf_options_warn(const struct kf_options *o, const struct outrig_host *host, struct outrig_handle *self)
{
	if (o->auth_from_required != NULL)
		host->log(self, OUTRIG_LOG_WARN,
			  "authRequired is deprecated (in Dapr too) and read as authType: %s; write "
			  "\"authType: %s\" instead",
			  o->auth_from_required, o->auth_from_required);
}
