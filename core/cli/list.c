/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig list`: the apps `outrig run` runs now, with their ports, like `dapr list`. */
#include "list.h"

#include "registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_COLUMNS 7

void list_usage(FILE *f)
{
	fputs("Usage: outrig list [-o table|json]\n"
	      "\n"
	      "Lists the apps that 'outrig run' is running for this user, with their sidecar's\n"
	      "ports. Each run keeps a record in $XDG_RUNTIME_DIR/outrig (else\n"
	      "$XDG_DATA_HOME/outrig/run, else ~/.local/share/outrig/run); records of runs that\n"
	      "are gone (killed outright) are removed here.\n"
	      "\n"
	      "Flags:\n"
	      "  -o, --output FORMAT   table (default) or json; json has the pids of outrig, outrigd\n"
	      "                        and the app, and the run file of 'outrig run -f'\n"
	      "                        (runTemplatePath), with 'dapr list -o json' field names\n"
	      "  -h, --help            this help\n",
	      f);
}

/* "42s", "7m", "3h", "2d", as `dapr list` writes the age. */
static void list_age(long long started, char *buf, size_t size)
{
	long long s = (long long)time(NULL) - started;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh", s / 3600);
	else
		snprintf(buf, size, "%lldd", s / 86400);
}

static void list_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void list_json(const struct reg_record *rs, size_t n)
{
	if (n == 0) {
		puts("[]");
		return;
	}
	puts("[");
	for (size_t i = 0; i < n; i++) {
		const struct reg_record *r = &rs[i];
		time_t started = (time_t)r->started;
		char age[32], created[64] = "";
		struct tm tm;

		list_age(r->started, age, sizeof(age));
		if (localtime_r(&started, &tm) != NULL)
			strftime(created, sizeof(created), "%Y-%m-%d %H:%M.%S", &tm);
		fputs("  {\n    \"appId\": ", stdout);
		list_json_string(r->app_id);
		printf(",\n    \"httpPort\": %d,\n    \"grpcPort\": %d,\n    \"appPort\": %d,\n",
		       r->http_port, r->grpc_port, r->app_port);
		fputs("    \"command\": ", stdout);
		list_json_string(r->command);
		printf(",\n    \"age\": \"%s\",\n    \"created\": \"%s\",\n    \"started\": %lld,\n", age,
		       created, r->started);
		/* dapr's name for the run file an app came from (`dapr run -f`); "" for a plain run. */
		fputs("    \"runTemplatePath\": ", stdout);
		list_json_string(r->run_file);
		fputs(",\n", stdout);
		printf("    \"cliPid\": %ld,\n    \"daprdPid\": %ld,\n    \"appPid\": %ld\n  }%s\n",
		       (long)r->pid, (long)r->outrigd_pid, (long)r->app_pid, i + 1 < n ? "," : "");
	}
	puts("]");
}

static const char *const list_heads[LIST_COLUMNS] = {
	"APP ID", "HTTP PORT", "GRPC PORT", "APP PORT", "COMMAND", "AGE", "PID",
};

/* Row 0 is the header, row i the run rs[i - 1]; nums holds the cells that are not strings. */
static const char *list_cell(const struct reg_record *rs, char (*nums)[LIST_COLUMNS][32], size_t row,
			     size_t col)
{
	if (row == 0)
		return list_heads[col];
	if (col == 0)
		return rs[row - 1].app_id;
	if (col == 4)
		return rs[row - 1].command;
	return nums[row - 1][col];
}

static void list_table(const struct reg_record *rs, size_t n)
{
	size_t width[LIST_COLUMNS] = { 0 };
	char(*nums)[LIST_COLUMNS][32] = calloc(n + 1, sizeof(*nums));

	if (nums == NULL) {
		perror("outrig list");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct reg_record *r = &rs[i];

		snprintf(nums[i][1], sizeof(nums[i][1]), "%d", r->http_port);
		snprintf(nums[i][2], sizeof(nums[i][2]), "%d", r->grpc_port);
		snprintf(nums[i][3], sizeof(nums[i][3]), "%d", r->app_port);
		list_age(r->started, nums[i][5], sizeof(nums[i][5]));
		snprintf(nums[i][6], sizeof(nums[i][6]), "%ld", (long)r->pid);
	}
	for (size_t row = 0; row <= n; row++)
		for (size_t col = 0; col < LIST_COLUMNS; col++) {
			size_t len = strlen(list_cell(rs, nums, row, col));

			if (len > width[col])
				width[col] = len;
		}
	for (size_t row = 0; row <= n; row++)
		for (size_t col = 0; col < LIST_COLUMNS; col++) {
			const char *text = list_cell(rs, nums, row, col);

			if (col + 1 < LIST_COLUMNS)
				printf("%-*s  ", (int)width[col], text);
			else
				printf("%s\n", text);
		}
	free(nums);
}

int list_main(int argc, char **argv)
{
	struct reg_record *rs;
	bool json = false;
	size_t n, live = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			list_usage(stdout);
			return 0;
		}
		if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "outrig list: flag '%s' needs a value: table or json\n", arg);
				return 2;
			}
			value = argv[++i];
		} else if (strncmp(arg, "--output=", 9) == 0) {
			value = arg + 9;
		} else {
			fprintf(stderr, "outrig list: unknown %s '%s'; see 'outrig list --help'\n",
				arg[0] == '-' ? "flag" : "argument", arg);
			return 2;
		}
		if (strcmp(value, "json") == 0)
			json = true;
		else if (strcmp(value, "table") == 0)
			json = false;
		else {
			fprintf(stderr, "outrig list: --output '%s' is not table or json\n", value);
			return 2;
		}
	}

	if (reg_load_all(&rs, &n) != 0) {
		char dir[PATH_MAX] = "the run folder";

		reg_dir(dir, sizeof(dir), false);
		fprintf(stderr, "outrig list: cannot read %s: %s\n", dir, strerror(errno));
		return 1;
	}
	/* Runs killed outright could not remove their records; they go now. */
	for (size_t i = 0; i < n; i++) {
		if (reg_alive(&rs[i]))
			rs[live++] = rs[i];
		else
			reg_remove(&rs[i]);
	}
	if (json)
		list_json(rs, live);
	else if (live == 0)
		puts("No running apps found; start one with 'outrig run'.");
	else
		list_table(rs, live);
	free(rs);
	return 0;
}
