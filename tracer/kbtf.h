/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Byte offsets of members of the running kernel's structs, for objects that read
 * kernel memory: the thread pointer (task_struct.thread.fsbase), module load
 * addresses (task_struct.mm, mm_struct.saved_auxv, ...) and the uretprobe depth
 * (task_struct.utask, uprobe_task.depth).
 *
 * They come from /sys/kernel/btf/vmlinux, which takes 60-170 ms to parse here, so each
 * answer, found or not, is kept for the process and on disk for this kernel build
 * (kcache.h): only a kernel's first run parses it. An unreadable BTF is not kept, since
 * it may be readable later (a module loaded, a file system mounted). The kcache file
 * of an answer is named "kbtf-WHAT-HASH" (HASH: of the fields asked) and holds a
 * uint32_t status (0, or ENOENT for a missing member), the uint32_t count of fields,
 * then their uint32_t offsets; one of another count is a miss.
 */
#ifndef GS_TRACER_KBTF_H
#define GS_TRACER_KBTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GS_KBTF_MAX_FIELDS = 8 };

struct gs_kbtf_field {
	/* "struct.member[.member...]": "task_struct.thread.fsbase"; members of anonymous
	 * structs and unions are found as if they were the parent's own */
	const char *path;
	uint32_t size;		/* the member's size in bytes must be this (0: any) */
	bool pointer;		/* the member must be a pointer */
};

/*
 * Fills @offs[i] with the byte offset of @fields[i] from the start of the first
 * struct of its path, for @n (at most GS_KBTF_MAX_FIELDS) fields, under the cache key
 * @what (letters, digits, '-' or '_'; what is kept is per @what and fields). Returns 0;
 * -ENOENT when a member is missing, not on a byte boundary, or not of the asked size
 * or kind; -EINVAL for a bad request; or the error reading the BTF.
 */
int gs_kbtf_offsets(const char *what, const struct gs_kbtf_field *fields, size_t n,
		    uint32_t *offs);

/* Frees the parsed BTF, if any (answers stay cached). */
void gs_kbtf_release(void);

/* Forgets this process's answers; the kcache files stay. For tests. */
void gs_kbtf_forget(void);

#endif /* GS_TRACER_KBTF_H */
