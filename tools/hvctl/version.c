// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl version: the tool's and the module's versions, limits, features.
 */
#include <getopt.h>
#include <unistd.h>

#include "hvctl.h"

void help_version(FILE *out)
{
	fprintf(out,
		"Usage: %s version\n"
		"\n"
		"Show the tool's version and ABI version, the module's ABI\n"
		"version, its limits (zones, devices, regions per zone) and the\n"
		"features it implements. Exits with 3 if the module is not\n"
		"loaded and 4 if its ABI version differs from the tool's (after\n"
		"printing both).\n", prog);
}

static void print_features(uint64_t features)
{
	unsigned int bit;
	const char *name;

	printf("features: ");
	if (!features)
		printf("none");
	for (bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		name = feature_name(bit);
		if (name)
			printf("%s ", name);
		else
			printf("bit%u ", bit);
	}
	printf("(0x%llx)\n", (unsigned long long)features);
}

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hvisor_vhost_version ver;
	int c, fd, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_version(stdout);
			return EXIT_OK;
		default:
			option_error("version", c, argv);
		}
	}
	if (optind < argc)
		usage_error("version", "unexpected argument '%s'", argv[optind]);

	printf("hvctl version: %s\n", HVCTL_VERSION);
	printf("tool ABI version: %u\n", HVISOR_VHOST_ABI_VERSION);
	fflush(stdout);
	ret = module_connect(&ver, &fd);
	if (fd < 0)
		return ret;
	printf("module ABI version: %u\n", ver.abi_version);
	printf("max zones: %u\n", ver.max_zones);
	printf("max devices: %u\n", ver.max_devices);
	if (ver.max_zone_devices)
		printf("max devices per zone: %u\n", ver.max_zone_devices);
	printf("max regions per zone: %u\n", ver.max_regions);
	print_features(ver.features);
	close(fd);
	return ret;
}
