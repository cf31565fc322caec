// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl add-console and console: virtio-console devices, the zones'
 * terminals, and a terminal attached to one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "hvctl.h"

/* Ctrl-], as telnet and virsh console have it. */
#define ESCAPE_CHAR	0x1d

void help_add_console(FILE *out)
{
	fprintf(out,
		"Usage: %s add-console --zone Z --mmio BASE [--size SIZE] --irq N\n"
		"                      [--cols N --rows N]\n"
		"\n"
		"Give zone Z a virtio-console device (the zone's /dev/hvc0 with\n"
		"Linux's virtio_console) whose virtio-mmio registers are at\n"
		"guest-physical BASE, raising interrupt N in the zone. Prints the\n"
		"new device's id. Root reaches the console through its tty,\n"
		"/dev/hvvconN ('%s list' names it; '%s console <dev-id>').\n"
		"\n"
		"  --zone Z       zone the device belongs to (see '%s zone add')\n"
		"  --mmio BASE    guest-physical base of the register window\n"
		"  --size SIZE    size of the window (default 0x%x, at least 0x200)\n"
		"  --irq N        interrupt injected into the zone (GIC INTID)\n"
		"  --cols N       terminal width the zone sees until the tty's size\n"
		"                 is set (default 0: unknown)\n"
		"  --rows N       terminal height, likewise\n",
		prog, prog, prog, prog, DEFAULT_MMIO_SIZE);
}

void help_console(FILE *out)
{
	fprintf(out,
		"Usage: %s console <dev-id>\n"
		"\n"
		"Attach this terminal to console device <dev-id>: what the zone\n"
		"writes appears here, what is typed goes to the zone byte for\n"
		"byte (the terminal is put in raw mode; the zone's own tty does\n"
		"the echo and line editing). The terminal's size is passed on.\n"
		"Ctrl-] detaches; the terminal is restored on exit and on\n"
		"SIGTERM or SIGHUP.\n", prog);
}

static int parse_dim(const char *cmd, const char *arg, uint16_t *out)
{
	__u32 v;

	if (parse_u32(arg, &v) || v > 0xffff)
		usage_error(cmd, "bad terminal size '%s'", arg);
	*out = v;
	return 0;
}

int cmd_add_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "mmio", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "irq", required_argument, NULL, 'i' },
		{ "cols", required_argument, NULL, 'c' },
		{ "rows", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd = "add-console";
	struct window_opts w = { };
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	int c, fd;

	memset(&d, 0, sizeof(d));
	d.type = HVISOR_VHOST_DEV_CONSOLE;
	d.mmio_size = DEFAULT_MMIO_SIZE;
	d.backend_fd = -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":z:m:s:i:c:r:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			parse_dim(cmd, optarg, &d.console.cols);
			break;
		case 'r':
			parse_dim(cmd, optarg, &d.console.rows);
			break;
		case 'h':
			help_add_console(stdout);
			return EXIT_OK;
		default:
			if (!window_opt(cmd, c, optarg, &d, &w))
				option_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	window_opts_check(cmd, &d, &w);

	fd = module_open(&ver);
	if (!(ver.features & HVISOR_VHOST_F_CONSOLE)) {
		err_msg("cannot add console: the module has no virtio-console support");
		close(fd);
		return EXIT_FAILED;
	}
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_ADD, &d) < 0) {
		dev_add_error(fd, errno, "console", &d, &ver);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	printf("%u\n", d.dev_id);
	return EXIT_OK;
}

/* Everything of @len at @buf to @fd; false when @fd is gone. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

static void pass_size(int from, int to)
{
	struct winsize ws;

	if (!ioctl(from, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row)
		ioctl(to, TIOCSWINSZ, &ws);
}

/*
 * Copy both ways until Ctrl-], a signal, or either side ends.  Signals
 * come through @sfd, so that the terminal is restored in order.
 */
static int console_loop(int tty, int sfd, bool interactive)
{
	struct pollfd p[3] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = tty, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	char buf[4096];
	ssize_t n;

	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			err_msg("poll: %s", strerror(errno));
			return EXIT_FAILED;
		}
		if (p[2].revents & POLLIN &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGWINCH)
				return EXIT_OK;
			pass_size(STDIN_FILENO, tty);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(tty, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				fprintf(stderr, "\r\n%s: the console went away\r\n",
					prog);
				return EXIT_FAILED;
			}
			if (!write_all(STDOUT_FILENO, buf, n))
				return EXIT_OK;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return EXIT_OK;
			esc = interactive ? memchr(buf, ESCAPE_CHAR, n) : NULL;
			if (esc)
				n = esc - buf;
			if (!write_all(tty, buf, n)) {
				fprintf(stderr, "\r\n%s: the console went away\r\n",
					prog);
				return EXIT_FAILED;
			}
			if (esc)
				return EXIT_OK;
		}
	}
}

int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct termios saved, raw;
	struct hvisor_vhost_version ver;
	struct hvisor_vhost_dev d;
	sigset_t sigs;
	bool interactive;
	char path[64];
	uint32_t id;
	int c, fd, tty, sfd, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_console(stdout);
			return EXIT_OK;
		default:
			option_error("console", c, argv);
		}
	}
	if (optind >= argc)
		usage_error("console", "missing device id");
	if (optind + 1 < argc)
		usage_error("console", "unexpected argument '%s'",
			    argv[optind + 1]);
	if (parse_u32(argv[optind], &id) || !id)
		usage_error("console", "bad device id '%s'", argv[optind]);

	fd = module_open(&ver);
	memset(&d, 0, sizeof(d));
	d.dev_id = id;
	if (module_ioctl(fd, HVISOR_VHOST_IOC_DEV_NEXT, &d) < 0 ||
	    d.dev_id != id) {
		err_msg("no device %u", id);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	if (d.type != HVISOR_VHOST_DEV_CONSOLE) {
		err_msg("device %u is no console (it is %s)", id,
			dev_type_name(d.type));
		return EXIT_FAILED;
	}
	snprintf(path, sizeof(path), "/dev/%.*s", HVISOR_VHOST_TTY_NAMSIZ,
		 d.console.tty_name);
	tty = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0) {
		err_msg("cannot open %s: %s", path, strerror(errno));
		return EXIT_FAILED;
	}
	/* The console's own line: raw, the zone's tty does the rest. */
	if (!tcgetattr(tty, &raw)) {
		cfmakeraw(&raw);
		tcsetattr(tty, TCSANOW, &raw);
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGWINCH);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		err_msg("signalfd: %s", strerror(errno));
		close(tty);
		return EXIT_FAILED;
	}

	interactive = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved);
	if (interactive) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
		pass_size(STDIN_FILENO, tty);
		fprintf(stderr, "Connected to %s (device %u, zone %u). Escape character is ^]\r\n",
			path, id, d.zone_id);
	}
	ret = console_loop(tty, sfd, interactive);
	if (interactive) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fprintf(stderr, "\n");
	}
	close(sfd);
	close(tty);
	return ret;
}
