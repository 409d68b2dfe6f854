// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel struct member offsets from the running kernel's BTF (kbtf.h): one parse of
 * /sys/kernel/btf/vmlinux per process at most, and none on a kernel whose answers are
 * already in the kcache.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tracer/kbtf.h"
#include "tracer/kcache.h"

enum {
	KBTF_MEMO = 16,
	KBTF_NAME_MAX = 64,			/* @what, its NUL included */
	KBTF_KEY_MAX = KBTF_NAME_MAX + 16,	/* "kbtf-" @what "-" 8 hex digits */
};

/* One answer, as the kcache file holds it: the status first, then n offsets. */
struct kbtf_answer {
	uint32_t status;	/* 0 or ENOENT */
	uint32_t n;
	uint32_t offs[GS_KBTF_MAX_FIELDS];
};

static struct btf *kbtf;		/* parsed on the first miss, until gs_kbtf_release */
static struct {
	char key[KBTF_KEY_MAX];
	struct kbtf_answer a;
} memo[KBTF_MEMO];			/* this process's answers */
static size_t nmemo;

/*
 * Bit offset and type of member @name in the struct or union @type_id, looking into
 * anonymous struct and union members too; 0 or -ENOENT.
 */
static int member_find(const struct btf *btf, uint32_t type_id, const char *name,
		       uint32_t *bits_ret, uint32_t *type_ret)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, type_id));
	const struct btf_member *m;

	if (!t || !btf_is_composite(t))
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint32_t inner;

		if (btf_member_bitfield_size(t, i))
			continue;	/* never what we read */
		if (mname && !strcmp(mname, name)) {
			*bits_ret = btf_member_bit_offset(t, i);
			*type_ret = m->type;
			return 0;
		}
		if ((!mname || !*mname) && !member_find(btf, m->type, name, &inner, type_ret)) {
			*bits_ret = btf_member_bit_offset(t, i) + inner;
			return 0;
		}
	}
	return -ENOENT;
}

/* The byte offset of @f in @btf: 0, or -ENOENT (see kbtf.h), or -EINVAL for a bad path. */
static int field_offset(const struct btf *btf, const struct gs_kbtf_field *f, uint32_t *off_ret)
{
	char buf[256], *name, *save = NULL;
	const struct btf_type *t;
	uint64_t bits = 0;
	uint32_t type, mbits;
	int32_t id;

	if (strlen(f->path) >= sizeof(buf))	/* answer_of() refused NULL paths */
		return -EINVAL;
	strcpy(buf, f->path);
	name = strtok_r(buf, ".", &save);
	if (!name)
		return -EINVAL;
	id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	if (id < 0)
		return -ENOENT;
	type = (uint32_t)id;
	name = strtok_r(NULL, ".", &save);
	if (!name)
		return -EINVAL;		/* a struct, not a member */
	for (; name; name = strtok_r(NULL, ".", &save)) {
		if (member_find(btf, type, name, &mbits, &type))
			return -ENOENT;
		bits += mbits;
	}
	if (bits % 8 || bits / 8 > UINT32_MAX)
		return -ENOENT;
	if (f->size && btf__resolve_size(btf, type) != (int64_t)f->size)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__resolve_type(btf, type));
	if (f->pointer && (!t || !btf_is_ptr(t)))
		return -ENOENT;
	*off_ret = (uint32_t)(bits / 8);
	return 0;
}

/*
 * The kcache name of an answer: "kbtf-WHAT-HASH", HASH an FNV-1a of the fields asked
 * (paths, sizes, kinds). Another question under the same @what, or a file of another
 * format (older builds wrote bare offsets as "fsbase", "utask", "modcfg"), is then
 * another file, never misread.
 */
static void disk_key(const char *what, const struct gs_kbtf_field *fields, size_t n,
		     char *buf, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)fields[i].path;
		uint8_t kind = fields[i].pointer;

		do
			h = (h ^ *p) * 16777619u;
		while (*p++);
		for (size_t b = 0; b < sizeof(fields[i].size); b++)
			h = (h ^ (uint8_t)(fields[i].size >> (8 * b))) * 16777619u;
		h = (h ^ kind) * 16777619u;
	}
	snprintf(buf, len, "kbtf-%s-%08" PRIx32, what, h);
}

static int answer_of(const char *what, const struct gs_kbtf_field *fields, size_t n,
		     struct kbtf_answer *a)
{
	size_t len = offsetof(struct kbtf_answer, offs) + n * sizeof(a->offs[0]);
	char key[KBTF_KEY_MAX];
	int ret;

	for (size_t i = 0; i < n; i++)
		if (!fields[i].path)
			return -EINVAL;
	disk_key(what, fields, n, key, sizeof(key));
	for (size_t i = 0; i < nmemo; i++) {
		if (!strcmp(memo[i].key, key)) {
			*a = memo[i].a;
			return a->n == n ? 0 : -EINVAL;
		}
	}
	if (gs_kcache_get(key, a, len) || a->n != n || (a->status && a->status != ENOENT)) {
		/* a miss: parse the kernel's BTF once for this process */
		if (!kbtf) {
			struct btf *b = btf__load_vmlinux_btf();

			ret = libbpf_get_error(b);
			if (ret)
				return ret;	/* not kept: it may be readable later */
			kbtf = b;
		}
		memset(a, 0, sizeof(*a));
		a->n = (uint32_t)n;
		for (size_t i = 0; i < n && !a->status; i++) {
			ret = field_offset(kbtf, &fields[i], &a->offs[i]);
			if (ret == -EINVAL)
				return ret;
			a->status = ret ? ENOENT : 0;
		}
		if (a->status)
			memset(a->offs, 0, sizeof(a->offs));
		gs_kcache_put(key, a, len);
	}
	if (nmemo < KBTF_MEMO) {
		memcpy(memo[nmemo].key, key, sizeof(key));
		memo[nmemo++].a = *a;
	}
	return 0;
}

int gs_kbtf_offsets(const char *what, const struct gs_kbtf_field *fields, size_t n,
		    uint32_t *offs)
{
	struct kbtf_answer a;
	int ret;

	if (!what || !*what || strlen(what) >= KBTF_NAME_MAX ||
	    what[strspn(what, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] ||
	    !fields || !n || n > GS_KBTF_MAX_FIELDS)
		return -EINVAL;
	ret = answer_of(what, fields, n, &a);
	if (ret)
		return ret;
	if (a.status)
		return -ENOENT;
	memcpy(offs, a.offs, n * sizeof(offs[0]));
	return 0;
}

void gs_kbtf_release(void)
{
	btf__free(kbtf);
	kbtf = NULL;
}

void gs_kbtf_forget(void)
{
	nmemo = 0;
}
