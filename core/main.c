/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd: load resources and plugins, then serve Dapr's HTTP API until told to stop. */
#include "config.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/grpc_client.h"
#include "channels/app_health.h"
#include "blocks/bindings/binding_runtime.h"
#include "build_info.h"
#include "components/component.h"
#include "components/config_map.h"
#include "resources/configuration.h"
#include "base/data_dir.h"
#include "base/diag.h"
#include "components/component_call.h"
#include "components/embedded.h"
#include "api/grpc/grpc_server.h"
#include "api/http/router.h"
#include "api/http/http_errors.h"
#include "api/internal/internal_server.h"
#include "api/http/metrics_endpoint.h"
#include "observe/api_log.h"
#include "observe/dapr_metrics.h"
#include "base/log.h"
#include "base/sd_notify.h"
#include "components/host.h"
#include "components/reload.h"
#include "blocks/invoke/nameres.h"
#include "options.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "resiliency/resil.h"
#include "resources/resources.h"
#include "security/app_tls.h"
#include "runtime.h"
#include "observe/trace.h"

/* Calls to the app (deliveries, invocations) wait this long for its answer before failing. */
#define MAIN_APP_TIMEOUT_S 300

static void main_print_version(void)
{
	printf("outrigd %s (commit %s) plugin ABI %d.%d\n", PACKAGE_VERSION, OUTRIG_COMMIT, OUTRIG_ABI_MAJOR,
	       OUTRIG_ABI_MINOR);
}

/* daprd --build-info's lines, for scripts that read them. */
static void main_print_build_info(void)
{
	printf("Version: %s\nGit Commit: %s\nGit Version: outrigd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
	       OUTRIG_COMMIT, PACKAGE_VERSION, OUTRIG_ABI_MAJOR, OUTRIG_ABI_MINOR);
}

/* The lines of --describe-plugin between versions and metadata: what the plugin can do. */
static void main_describe_capabilities(const struct plugin *p, const char *type)
{
	const char *caps[8];
	size_t n = loader_capabilities(&p->desc, type, caps, 8);

	printf("\nABI: %u.%u\ncapabilities:", p->desc.abi_major, p->desc.abi_minor);
	for (size_t i = 0; i < n; i++)
		printf(" %s", caps[i]);
	if (n == 0)
		printf(" none");
	if (p->desc.bindings != NULL && p->desc.bindings->operations != NULL) {
		printf("\noperations:");
		for (const char *const *o = p->desc.bindings->operations; *o != NULL; o++)
			printf(" %s", *o);
	}
	if (p->desc.also_types != NULL && p->desc.also_types[0] != NULL) {
		printf("\nalso serves:");
		for (const char *const *t = p->desc.also_types; *t != NULL; t++)
			printf(" %s", *t);
	}
	printf("\nconcurrency: %s", (p->desc.flags & OUTRIG_PLUGIN_SERIAL)
					    ? "serial (one operation of an instance at a time)"
					    : "parallel (operations of an instance may run at once)");
}

static int main_describe_plugin(const struct options *opts)
{
	struct loader ld;
	struct plugin *p;
	char err[1024];
	int rc = 1;

	if (loader_init(&ld, opts->plugin_dir) != 0)
		return 1;
	p = loader_get(&ld, opts->describe_plugin, NULL, false, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "outrigd: %s\n", err);
	} else {
		printf("%s %s: %s\nfile: %s\nversions:", p->desc.type,
		       p->desc.plugin_version != NULL ? p->desc.plugin_version : "",
		       p->desc.description != NULL ? p->desc.description : "", p->path);
		for (const char *const *v = p->desc.versions; v != NULL && *v != NULL; v++)
			printf(" %s", *v);
		main_describe_capabilities(p, opts->describe_plugin);
		printf("\nmetadata:\n");
		config_fields_print(p->desc.fields);
		rc = 0;
	}
	loader_close(&ld);
	return rc;
}

static void main_print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s\n", d->lines[i]);
}

/* Loads the resource folders, or the embedded defaults when none is given. */
static size_t main_load_resources(const struct options *opts, struct res_set *rs, struct diag *d)
{
	if (opts->resources_count == 0)
		return embedded_components(opts->data_dir, rs, d);
	return resources_load(opts->resources_paths, opts->resources_count, opts->app_id, rs, d);
}

/* A declarative subscription naming no pub/sub component of these resources would never be made. */
static void main_check_subscriptions(const struct res_set *rs, const struct components *cs, struct diag *d)
{
	for (size_t i = 0; i < rs->subscriptions.count; i++) {
		const struct subscription *sub = &rs->subscriptions.items[i];
		const struct component *c = components_find(cs, sub->pubsub);

		if (c == NULL || strncmp(c->type, "pubsub.", 7) != 0)
			diag_warn(
				d,
				"%s: spec.pubsubname: \"%s\" is not a pub/sub component here; the subscription to topic %s will not be made",
				sub->origin, sub->pubsub, sub->topic);
	}
}

/* Reads the --config files into cfg, and refuses the components of rs that spec.components.deny lists. */
static size_t main_load_config(const struct options *opts, const struct res_set *rs, struct configuration *cfg,
			       struct diag *d)
{
	size_t errors = configuration_load(opts->config_paths, opts->config_count, cfg, d);

	return errors + cfg_policy_check_components(&cfg->policy, rs, d);
}

/* Checks or makes the name resolver the --config files choose (or the default); cfg_errors: theirs. */
static size_t main_setup_resolver(const struct options *opts, struct configuration *cfg, size_t cfg_errors,
				  struct components *cs, bool create, struct diag *d)
{
	if (cfg_errors != 0)
		return cfg_errors;
	return components_setup_resolver(cs, &cfg->resolver, opts->app_id, create, cfg->resolver_configured, d);
}

static int main_check(const struct options *opts)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	struct components cs;
	const char *what = opts->check_create ? "outrigd --check-create" : "outrigd --check";
	struct configuration cfg;
	char *data_dir = NULL;
	size_t errors, cfg_errors;

	/* --check-create makes every instance as start-up would, so plugins get their data folder too. */
	if (opts->check_create) {
		data_dir = data_dir_path(opts->data_dir);
		if (data_dir == NULL || data_dir_make(data_dir) != 0)
			log_warn(
				"runtime",
				"cannot create the data folder %s: %s; plugins that keep files there will fail",
				data_dir != NULL ? data_dir : "(out of memory)", strerror(errno));
		host_set_data_dir(data_dir != NULL ? data_dir : "");
	}
	errors = main_load_resources(opts, &rs, &d);
	/* Before the components: a type spec.components.deny lists is never made. */
	cfg_errors = main_load_config(opts, &rs, &cfg, &d);
	/* The certificates mTLS would serve with: loadable, of this app, not expired. */
	if (cfg_errors == 0 && internal_mtls_load(opts, &cfg.mtls, NULL) != 0)
		cfg_errors++;
	errors += components_setup(&cs, &rs, opts->plugin_dir, opts->app_id, opts->check_create && cfg_errors == 0,
				   &d);
	/*
	 * The default resolver is not the user's to check: only one --config files choose or configure.
	 * --check-create makes it as start-up does, where its failure is only a warning.
	 */
	if (opts->config_count > 0 || opts->check_create)
		errors += main_setup_resolver(opts, &cfg, cfg_errors, &cs, opts->check_create && errors == 0, &d);
	else
		errors += cfg_errors;
	configuration_free(&cfg);
	main_check_subscriptions(&rs, &cs, &d);
	main_print_diag(&d);
	if (errors == 0 && opts->config_count == 0)
		printf("%s: %zu component%s and %zu subscription%s OK, %zu warning%s\n", what, rs.count,
		       rs.count == 1 ? "" : "s", rs.subscriptions.count,
		       rs.subscriptions.count == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	else if (errors == 0)
		printf("%s: %zu component%s, %zu subscription%s and %zu configuration file%s OK, %zu warning%s\n",
		       what, rs.count, rs.count == 1 ? "" : "s", rs.subscriptions.count,
		       rs.subscriptions.count == 1 ? "" : "s", opts->config_count,
		       opts->config_count == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	else
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", what, errors, errors == 1 ? "" : "s",
			d.warnings, d.warnings == 1 ? "" : "s");
	components_destroy(&cs);
	free(data_dir);
	resources_free(&rs);
	diag_clear(&d);
	return errors == 0 ? 0 : 1;
}

/*
 * Without mTLS a caller's app id and namespace are what its sidecar claims: say once what
 * policies naming apps are then worth (README, internal_protocol.md).
 */
static void main_warn_unverified(const struct server *srv)
{
	const struct access_control *acl = &srv->config.policy.acl;

	/* With mTLS the identity is the certificate's (internal_server.c). */
	if (acl->npolicies == 0 || srv->opts->enable_mtls || srv->config.mtls.enabled)
		return;
	log_warn(
		"runtime",
		"%s:%d: spec.accessControl.policies are matched on the app id and namespace the calling sidecar claims, without mTLS: any process that can reach this sidecar's internal port can claim any app id, so these policies are only as strong as the network around that port; turn on mTLS for verified identities",
		acl->file != NULL ? acl->file : "?", acl->line);
}

/* spec.tracing of the --config files: spans and their exporters (off without the section). */
static int main_start_tracing(struct server *srv)
{
	char err[512];

	if (trace_start(srv->base, &srv->config.tracing, srv->opts->app_id, err, sizeof(err)) != 0) {
		log_error("runtime", "--config: spec.tracing: %s", err);
		return -1;
	}
	return 0;
}

/* With --app-protocol https or grpcs (or --app-ssl), the TLS context every connection to the app uses. */
static int main_app_tls(struct server *srv)
{
	const struct options *opts = srv->opts;
	bool grpcs = strcmp(opts->app_protocol, "grpcs") == 0;
	char err[256];

	if (!grpcs && strcmp(opts->app_protocol, "https") != 0)
		return 0;
	srv->app_tls = app_tls_new(opts->app_channel_address, grpcs ? "h2" : "http/1.1", err, sizeof(err));
	if (srv->app_tls == NULL) {
		log_error("runtime", "--app-protocol %s: %s", opts->app_protocol, err);
		return -1;
	}
	log_info("runtime",
		 "calling the app over TLS (--app-protocol %s); as daprd, its certificate is not verified",
		 opts->app_protocol);
	return 0;
}

/*
 * The app's connection, by --app-protocol: an HTTP channel (srv->app) or a gRPC client of its
 * AppCallback (srv->app_grpc), never both. Returns 0, or -1 when out of memory.
 */
static int main_open_app(struct server *srv)
{
	const struct options *opts = srv->opts;
	/* daprd sends APP_API_TOKEN (when not empty) on every call to its app, over HTTP and gRPC alike. */
	const char *token = getenv("APP_API_TOKEN");

	for (size_t i = 0; token != NULL && token[i] != '\0'; i++) {
		unsigned char c = (unsigned char)token[i];

		/* An HTTP header or gRPC metadata value cannot carry it; the token itself stays out of the log. */
		if (c < 0x20 || c == 0x7f) {
			log_error(
				"runtime",
				"APP_API_TOKEN holds a control character (byte 0x%02x at offset %zu), which no "
				"dapr-api-token header can carry; set it to printable characters (e.g. openssl rand "
				"-base64 32)",
				c, i);
			return -1;
		}
	}
	if (main_app_tls(srv) != 0)
		return -1;
	if (strncmp(opts->app_protocol, "grpc", 4) == 0) {
		srv->app_grpc = app_grpc_new(srv->base, opts->app_channel_address, opts->app_port,
					     opts->app_max_concurrency, MAIN_APP_TIMEOUT_S, token);
		if (srv->app_grpc == NULL)
			return -1;
		grpc_client_set_tls(app_grpc_client(srv->app_grpc), srv->app_tls);
		/* daprd bounds the app's answers by the same flags as requests, over gRPC as over HTTP. */
		grpc_client_set_limits(app_grpc_client(srv->app_grpc), opts->max_body_bytes,
				       opts->read_buffer_bytes);
		return 0;
	}
	srv->app = app_channel_new(srv->base, opts->app_channel_address, opts->app_port,
				   opts->app_max_concurrency, MAIN_APP_TIMEOUT_S);
	if (srv->app == NULL || app_channel_set_token(srv->app, token) != 0)
		return -1;
	app_channel_set_tls(srv->app, srv->app_tls);
	/* daprd bounds the app's answers by the same flags as requests. */
	app_channel_set_limits(srv->app, opts->max_body_bytes, opts->read_buffer_bytes);
	return 0;
}

/*
 * Metrics and API logging by the flags and the Configuration: --enable-metrics=false or
 * spec.metric.enabled: false turn metrics off; --enable-api-logging, when given, wins over
 * spec.logging.apiLogging.enabled (daprd's rule). Then the components' initialisation counts.
 */
static void main_setup_observe(struct server *srv)
{
	const struct cfg_observe *obs = &srv->config.observe;
	const struct components *cs = srv->components;
	bool api_log =
		srv->opts->enable_api_logging >= 0 ? srv->opts->enable_api_logging == 1 : obs->api_logging;

	dm_setup(srv->opts->app_id, obs, srv->opts->enable_metrics && !obs->metrics_disabled);
	api_log_setup(api_log, obs->omit_health_checks, obs->obfuscate_urls);
	for (size_t i = 0; i < cs->count; i++)
		dm_component_init(cs->items[i]->type, cs->items[i]->failure != NULL);
}

static int main_serve(const struct options *opts)
{
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	struct components cs;
	struct server srv = { 0 };
	char *data_dir = data_dir_path(opts->data_dir);
	size_t errors, cfg_errors;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	/* A reload asked for before the components are up would end the process: it is for later. */
	signal(SIGHUP, SIG_IGN);
	/* Before any thread is made: each inherits the blocked SIGTERM and SIGINT. */
	if (runtime_signals_start() != 0) {
		log_error("runtime", "cannot start the signal thread: %s", strerror(errno));
		free(data_dir);
		return 1;
	}
	/* Plugins may keep files there (pubsub.mqtt3's spool): make it before they start. */
	if (data_dir == NULL || data_dir_make(data_dir) != 0)
		log_warn("runtime",
			 "cannot create the data folder %s: %s; plugins that keep files there will fail",
			 data_dir != NULL ? data_dir : "(out of memory)", strerror(errno));
	host_set_data_dir(data_dir != NULL ? data_dir : "");
	evthread_use_pthreads();
	srv.opts = opts;
	srv.components = &cs;
	/* daprd: a DAPR_API_TOKEN that is set but empty leaves the API open, as an unset one does. */
	srv.api_token = getenv("DAPR_API_TOKEN");
	if (srv.api_token != NULL && *srv.api_token == '\0')
		srv.api_token = NULL;
	srv.extended = json_object();
	srv.base = event_base_new();
	errors = main_load_resources(opts, &rs, &d);
	/* Before the components: a type spec.components.deny lists is never made. */
	cfg_errors = main_load_config(opts, &rs, &srv.config, &d);
	errors += components_setup(&cs, &rs, opts->plugin_dir, opts->app_id, cfg_errors == 0, &d);
	/* Configuration files are checked even when components failed, so every problem is listed. */
	errors += main_setup_resolver(opts, &srv.config, cfg_errors, &cs, errors == 0, &d);
	for (size_t i = 0; i < d.count; i++)
		log_write(strncmp(d.lines[i], "warning: ", 9) == 0 ? OUTRIG_LOG_WARN : OUTRIG_LOG_ERROR,
			  "runtime", "%s", d.lines[i]);
	if (errors != 0) {
		log_error(
			"runtime",
			"not starting: %zu error%s in resources or plugins (listed above; outrigd --check-create with the same flags checks them without serving)",
			errors, errors == 1 ? "" : "s");
		goto out;
	}
	main_warn_unverified(&srv);
	if (srv.base != NULL && main_start_tracing(&srv) != 0)
		goto out;
	main_setup_observe(&srv);
	srv.workers = srv.base != NULL ? workers_start(srv.base, opts->worker_threads) : NULL;
	srv.resil = resil_new(srv.base, &rs.resiliency);
	if (srv.resil == NULL || runtime_on_stop(&srv, component_call_stop) != 0) {
		log_error("runtime", "cannot start the Resiliency policies: out of memory");
		goto out;
	}
	if (opts->app_port > 0 && main_open_app(&srv) != 0)
		goto out;
	/* Health first: the delivery engines pubsub_runtime_start and binding_runtime_start make watch it. */
	if (srv.workers == NULL || app_health_start(&srv) != 0 ||
	    components_start(&cs, srv.base, srv.workers) != 0 || reload_start(&srv, &rs) != 0 ||
	    http_api_listen(&srv) != 0 || metrics_endpoint_listen(&srv) != 0 ||
	    grpc_server_listen(&srv) != 0 || internal_server_listen(&srv) != 0 || nameres_start(&srv) != 0 ||
	    pubsub_runtime_start(&srv.pubsub, &srv, &rs) != 0 ||
	    binding_runtime_start(&srv.bindings, &srv, &rs) != 0)
		goto out;
	resources_free(&rs);
	if (runtime_signals_arm(&srv) != 0)
		goto out;
	srv.ready = true;
	log_info("runtime", "outrigd %s ready: app id \"%s\", %zu component%s", PACKAGE_VERSION, opts->app_id,
		 cs.count, cs.count == 1 ? "" : "s");
	if (sd_notify_send("READY=1") != 0)
		log_warn("runtime", "cannot tell systemd (NOTIFY_SOCKET): READY=1 not sent");
	event_base_dispatch(srv.base);
	rc = 0;
	log_info("runtime", "stopped");
out:
	runtime_signals_disarm();
	http_api_close(&srv);
	metrics_endpoint_close();
	runtime_close(&srv);
	grpc_server_close(&srv);
	internal_server_close(&srv);
	app_health_free(&srv);
	/* Workers first: no plugin call may run while instances are destroyed. */
	workers_stop(srv.workers);
	/* Calls whose handlers never finished: only now can nothing complete them any more. */
	grpc_server_free(&srv);
	/* Callers stop choosing this sidecar now, not when its entry goes stale. */
	nameres_stop(&srv);
	/* Messages not yet acknowledged by the app go back to their plugins before those go. */
	pubsub_runtime_stop(&srv.pubsub);
	binding_runtime_stop(&srv.bindings);
	app_channel_free(srv.app);
	app_grpc_free(srv.app_grpc);
	app_tls_free(srv.app_tls);
	reload_free(&srv);
	component_call_free_waiting();
	components_destroy(&cs);
	nameres_free(&srv);
	pubsub_runtime_free(&srv.pubsub);
	binding_runtime_free(&srv.bindings);
	resources_free(&rs);
	trace_stop();
	resil_free(srv.resil);
	configuration_free(&srv.config);
	if (srv.base != NULL)
		event_base_free(srv.base);
	diag_clear(&d);
	free(data_dir);
	return rc;
}

int main(int argc, char **argv)
{
	struct options opts;
	char err[512];
	int rc;

	if (options_parse(argc, argv, &opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "outrigd: %s\n", err);
		options_free(&opts);
		return 2;
	}
	log_setup(opts.log_level, opts.log_as_json, opts.app_id);
	api_errors_set_app_id(opts.app_id);
	if (opts.show_help) {
		options_usage();
		rc = 0;
	} else if (opts.show_version) {
		main_print_version();
		rc = 0;
	} else if (opts.show_build_info) {
		main_print_build_info();
		rc = 0;
	} else if (opts.describe_plugin != NULL) {
		options_log_notes(&opts);
		rc = main_describe_plugin(&opts);
	} else if (opts.check_only || opts.check_create) {
		options_log_notes(&opts);
		rc = main_check(&opts);
	} else {
		options_log_notes(&opts);
		rc = main_serve(&opts);
	}
	options_free(&opts);
	return rc;
}
