// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: command dispatch, usage and error reporting.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hvctl.h"

const char *prog = "hvctl";

static const struct command commands[] = {
	{ "version", "show tool and module versions, limits and features",
	  cmd_version, help_version },
	{ "list", "list zones and devices",
	  cmd_list, help_list },
	{ "stats", "show per-device counters (requests, bytes, ...)",
	  cmd_stats, help_stats },
	{ "zone", "add, remove or list zones (add|del|list)",
	  cmd_zone, help_zone },
	{ "add-blk", "add a virtio-blk device (a block device or an image)",
	  cmd_add_blk, help_add_blk },
	{ "add-net", "add a virtio-net device backed by a tap",
	  cmd_add_net, help_add_net },
	{ "add-console", "add a virtio-console device: the zone's terminal",
	  cmd_add_console, help_add_console },
	{ "console", "attach the terminal to a console device's tty",
	  cmd_console, help_console },
	{ "attach-net", "give a virtio-net device a (new) tap: link up",
	  cmd_attach_net, help_attach_net },
	{ "detach-net", "take the tap from a virtio-net device: link down",
	  cmd_detach_net, help_detach_net },
	{ "del", "remove a device",
	  cmd_del, help_del },
	{ "load", "create zones and devices from a virtio_cfg.json file",
	  cmd_load, help_load },
};

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd);
	else
		fprintf(stderr, "Try '%s --help'.\n", prog);
	exit(EXIT_USAGE);
}

/* Report a getopt_long() failure (optstring starting with ':'). */
int option_error(const char *cmd, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		usage_error(cmd, "option '%s' needs an argument", opt);
	usage_error(cmd, "unknown option '%s'", opt);
}

/*
 * The options of a command that has only --json and --help.  Returns false
 * once --help has printed @help (the command then exits EXIT_OK); a bad
 * option exits with EXIT_USAGE.  optind is left at the first operand.
 */
bool parse_json_opts(const char *cmd, void (*help)(FILE *out), int argc,
		     char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	*json = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			help(stdout);
			return false;
		default:
			option_error(cmd, c, argv);
		}
	}
	return true;
}

bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: %s COMMAND [ARGS...]\n"
		"       %s COMMAND --help\n"
		"       %s help [COMMAND]\n"
		"\n"
		"Configure the virtio devices that the hvisor_vhost module serves\n"
		"to guest zones.\n"
		"\n"
		"Commands:\n", prog, prog, prog);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"  %-10s %s\n"
		"\n"
		"Numbers are decimal, 0x hexadecimal or 0 octal; sizes take an\n"
		"optional K, M or G suffix (powers of 1024).\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the operation failed (the module refused it, or a system\n"
		"     call failed)\n"
		"  2  usage error: bad arguments or input (such as a path that is\n"
		"     neither a block device nor an image file)\n"
		"  3  the hvisor_vhost module is not loaded (no device node)\n"
		"  4  the module's ABI version differs from the tool's\n"
		"\n"
		"Environment:\n"
		"  %s  device node to use instead of %s\n",
		"help", "show help for a command",
		HVCTL_DEVICE_ENV, HVISOR_VHOST_DEVICE_PATH);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		usage_error("help", "too many arguments");
	if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		usage_error(NULL, "unknown command '%s'", argv[1]);
	c->help(stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2)
		usage_error(NULL, "missing command");
	if (is_help(argv[1])) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hvctl %s (ABI %u)\n", HVCTL_VERSION,
		       HVISOR_VHOST_ABI_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return cmd_help(argc - 1, argv + 1);
	c = find_command(argv[1]);
	if (!c)
		usage_error(NULL, "unknown command '%s'", argv[1]);
	return c->run(argc - 1, argv + 1);
}
