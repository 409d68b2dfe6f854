// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * For the e2e tests: prints "NAME type=T flags=F max=M entries=N" for every BPF map
 * of the system named NAME (argv[1..]), counting its entries with GET_NEXT_KEY.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	__u32 id = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		char key[256], next[256];
		void *prev = NULL;
		int fd = bpf_map_get_fd_by_id(id), n = 0;

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size > sizeof(key)) {
			close(fd);
			continue;
		}
		for (int i = 1; i < argc; i++) {
			if (strcmp(info.name, argv[i]))
				continue;
			while (!bpf_map_get_next_key(fd, prev, next)) {
				memcpy(key, next, info.key_size);
				prev = key;
				n++;
			}
			printf("%s type=%u flags=%u max=%u entries=%d\n", info.name, info.type,
			       info.map_flags, info.max_entries, n);
		}
		close(fd);
	}
	return 0;
}
