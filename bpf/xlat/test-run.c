// SPDX-License-Identifier: Apache-2.0
// Test runner for xlat.o: loads the object (no bpffs, no attach), fills its
// maps and runs packets through a program with BPF_PROG_TEST_RUN. Driven by
// test/kernel/xlat/*.test.ts over stdin/stdout, one command per line:
//   iface <ifindex> <prefix: 24 hex> <space id>     -> ok
//   eam <space id> <ipv4: 8 hex> <ipv6: 32 hex>     -> ok   (both directions)
//   run <program name> <frame hex>                  -> <tc verdict> <frame hex>
//   stats                                           -> <counter> ... (summed over CPUs)
// The frame is run on the loopback device (ifindex 1) of the caller's netns.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

static void hex(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s xlat.o < commands\n", argv[0]);
		return 2;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s failed (verifier log above)\n", argv[1]);
		return 1;
	}
	int ifaces = bpf_object__find_map_fd_by_name(obj, "xlat_ifaces");
	int eam4 = bpf_object__find_map_fd_by_name(obj, "xlat_eam4");
	int eam6 = bpf_object__find_map_fd_by_name(obj, "xlat_eam6");
	int stats = bpf_object__find_map_fd_by_name(obj, "xlat_stats");
	static char line[1 << 18];
	static unsigned char in[1 << 16], out[1 << 16];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *cmd = strtok(line, " ");
		if (!cmd)
			continue;
		if (!strcmp(cmd, "iface")) {
			unsigned ifindex = (unsigned)strtoul(strtok(NULL, " "), NULL, 10);
			unsigned char val[16] = {0};
			unhex(strtok(NULL, " "), val, 12);
			unsigned id = (unsigned)strtoul(strtok(NULL, " "), NULL, 10);
			memcpy(val + 12, &id, 4);
			printf(bpf_map_update_elem(ifaces, &ifindex, val, BPF_ANY) ? "error %d\n" : "ok\n", errno);
		} else if (!strcmp(cmd, "eam")) {
			unsigned id = (unsigned)strtoul(strtok(NULL, " "), NULL, 10);
			unsigned char k4[8], v6[16], k6[20];
			memcpy(k4, &id, 4);
			unhex(strtok(NULL, " "), k4 + 4, 4);
			unhex(strtok(NULL, " "), v6, 16);
			memcpy(k6, &id, 4);
			memcpy(k6 + 4, v6, 16);
			int e = bpf_map_update_elem(eam4, k4, v6, BPF_ANY) || bpf_map_update_elem(eam6, k6, k4 + 4, BPF_ANY);
			printf(e ? "error %d\n" : "ok\n", errno);
		} else if (!strcmp(cmd, "run")) {
			struct bpf_program *p = bpf_object__find_program_by_name(obj, strtok(NULL, " "));
			int n = unhex(strtok(NULL, " "), in, sizeof(in));
			if (!p || n < 14) {
				printf("error bad-program-or-frame\n");
			} else {
				LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (unsigned)n, .data_out = out,
					    .data_size_out = sizeof(out), .repeat = 1);
				if (bpf_prog_test_run_opts(bpf_program__fd(p), &o)) {
					printf("error %d\n", errno);
				} else {
					printf("%u ", o.retval);
					hex(out, o.data_size_out);
					printf("\n");
				}
			}
		} else if (!strcmp(cmd, "stats")) {
			int ncpu = libbpf_num_possible_cpus();
			unsigned long long vals[512];
			for (unsigned k = 0; k < 8 && ncpu > 0 && ncpu <= 512; k++) {
				unsigned long long sum = 0;
				if (bpf_map_lookup_elem(stats, &k, vals) == 0)
					for (int c = 0; c < ncpu; c++)
						sum += vals[c];
				printf(k ? " %llu" : "%llu", sum);
			}
			printf("\n");
		} else {
			printf("error unknown-command\n");
		}
		fflush(stdout);
	}
	bpf_object__close(obj);
	return 0;
}
