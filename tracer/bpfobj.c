// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Our own minimal loader for generated BPF objects (loader.c's fast path): parses the
 * ELF, creates the maps the object declares, applies its map relocations and loads
 * its programs, without libbpf's object parsing and kernel feature probes.
 *
 * What an object holds (tracer/codegen.c, bpf/helpers.c): programs as global
 * functions in executable sections ("uprobe.multi" ...), BTF-defined maps in ".maps"
 * (a struct of `int (*type)[N]`-style members, described in .BTF), the per-run
 * settings in ".rodata.gs_cfg", a "license" section, and REL sections whose
 * R_BPF_64_64 entries point ld_imm64 instructions at a map (BPF_PSEUDO_MAP_FD) or at
 * a data section (BPF_PSEUDO_MAP_VALUE, offset = symbol value + the instruction's
 * own immediate, as libbpf does). Data sections become one-element arrays, like
 * libbpf's internal maps, named after the section. Every map the object declares is
 * created, whatever its name.
 *
 * Only that is understood: anything else (a subprogram call, a CO-RE relocation, an
 * unknown map attribute or relocation type) makes gs_bpfobj_open() return
 * -EOPNOTSUPP and the object goes to libbpf. Every offset and size read from the ELF
 * is checked against the buffer: the object may come from the on-disk cache. The
 * BTF is parsed with libbpf's btf__new (cheap, userspace only) and sent to the
 * kernel only under strict_btf (tests check that the generated BTF is valid);
 * programs and maps do not need it.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tracer/loader_internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif
enum {
	GS_LOAD_THREADS = 4,		/* programs verified at once */
	GS_R_BPF_64_64 = 1,		/* ld_imm64 of a map or data address */
	GS_LOG_BUF = 1 << 20,		/* verifier log; 6.4+ kernels keep its tail */
};

/* .BTF.ext header (the kernel's and libbpf's layout; not in the uapi headers). */
struct btf_ext_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len, line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len;
};

struct prog {
	char name[64];
	const struct bpf_insn *insns;	/* into the object's copy */
	size_t cnt;
	size_t sec, off;		/* section and byte offset of the function */
	struct bpf_insn *rel;		/* relocated copy, while loading */
	long same_as;			/* an earlier program with the same code, or -1 */
	int fd;				/* or -errno after a failed load */
};

struct relo {
	uint32_t prog, insn, map;
	bool value;			/* BPF_PSEUDO_MAP_VALUE at @off, else the map's fd */
	uint32_t off;
};

struct gs_bpfobj {
	uint8_t *buf;
	size_t len;
	const Elf64_Shdr *sh;
	size_t nsh;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	size_t strs_len;
	struct btf *btf;
	int btf_fd;
	struct gs_bpfobj_map *maps;
	size_t *map_sec;		/* data maps: their section; .maps entries: 0 */
	uint64_t *map_off;		/* .maps entries: offset of the variable */
	size_t nmaps, cap_maps;
	struct prog *progs;
	size_t nprogs, cap_progs;
	struct relo *relos;
	size_t nrelos, cap_relos;
	uint32_t prog_type, attach_type;
	char license[64];
};

/* ---- ELF access ---------------------------------------------------------------------- */

static const char *sec_name(const struct gs_bpfobj *o, size_t i)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)o->buf;
	const Elf64_Shdr *ss = &o->sh[eh->e_shstrndx];
	uint32_t n = o->sh[i].sh_name;

	if (ss->sh_offset > o->len || n >= ss->sh_size || ss->sh_size > o->len - ss->sh_offset ||
	    !memchr(o->buf + ss->sh_offset + n, '\0', ss->sh_size - n))
		return "";
	return (const char *)o->buf + ss->sh_offset + n;
}

/* Section @i's bytes, or NULL (NOBITS, out of bounds). */
static const void *sec_data(const struct gs_bpfobj *o, size_t i, size_t *len_ret)
{
	const Elf64_Shdr *s = &o->sh[i];

	*len_ret = s->sh_size;
	if (s->sh_type == SHT_NOBITS || s->sh_offset > o->len || s->sh_size > o->len - s->sh_offset)
		return NULL;
	return o->buf + s->sh_offset;
}

static const char *sym_name(const struct gs_bpfobj *o, const Elf64_Sym *s)
{
	if (s->st_name >= o->strs_len || !memchr(o->strs + s->st_name, '\0', o->strs_len - s->st_name))
		return "";
	return o->strs + s->st_name;
}

static int find_sec(const struct gs_bpfobj *o, const char *name)
{
	for (size_t i = 1; i < o->nsh; i++)
		if (!strcmp(sec_name(o, i), name))
			return i;
	return -1;
}

static int elf_check(struct gs_bpfobj *o, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)o->buf;

	if (o->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_type != ET_REL || eh->e_machine != EM_BPF ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff % 8 || eh->e_shoff > o->len ||
	    eh->e_shnum > (o->len - eh->e_shoff) / sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum) {
		snprintf(err, errlen, "bpfobj: not a BPF relocatable ELF object");
		return -EINVAL;
	}
	o->sh = (const Elf64_Shdr *)(o->buf + eh->e_shoff);
	o->nsh = eh->e_shnum;
	for (size_t i = 1; i < o->nsh; i++) {
		size_t len;
		const void *d;

		if (o->sh[i].sh_type != SHT_SYMTAB)
			continue;
		d = sec_data(o, i, &len);
		if (!d || o->sh[i].sh_entsize != sizeof(Elf64_Sym) || (uintptr_t)d % 8 ||
		    o->sh[i].sh_link >= o->nsh)
			break;
		o->syms = d;
		o->nsyms = len / sizeof(Elf64_Sym);
		o->strs = sec_data(o, o->sh[i].sh_link, &o->strs_len);
		break;
	}
	if (!o->syms || !o->strs) {
		snprintf(err, errlen, "bpfobj: object lacks a symbol table");
		return -EINVAL;
	}
	return 0;
}

/* ---- growth ------------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *np;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	np = reallocarray(*p, c, size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

static struct gs_bpfobj_map *map_new(struct gs_bpfobj *o, const char *name, size_t sec,
				     uint64_t off)
{
	size_t old = o->cap_maps;
	struct gs_bpfobj_map *m;

	if (grow((void **)&o->maps, &o->cap_maps, o->nmaps, sizeof(*o->maps)))
		return NULL;
	if (old != o->cap_maps) {
		size_t *ns = reallocarray(o->map_sec, o->cap_maps, sizeof(*ns));
		uint64_t *no;

		if (!ns)
			return NULL;
		o->map_sec = ns;
		no = reallocarray(o->map_off, o->cap_maps, sizeof(*no));
		if (!no)
			return NULL;
		o->map_off = no;
	}
	m = &o->maps[o->nmaps];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->fd = -1;
	o->map_sec[o->nmaps] = sec;
	o->map_off[o->nmaps] = off;
	o->nmaps++;
	return m;
}

/* ---- maps ----------------------------------------------------------------------------- */

static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *id_ret)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (id_ret)
		*id_ret = id;
	return t;
}

/*
 * `int (*name)[N]` (libbpf's __uint): N. A known attribute of another shape is
 * malformed (-EINVAL), not a feature for libbpf: handing it such an object crashed
 * libbpf 1.1 in the loader's corruption test.
 */
static int btf_uint_member(const struct btf *btf, const struct btf_member *m, uint32_t *val)
{
	const struct btf_type *t = skip_mods(btf, m->type, NULL);

	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	t = skip_mods(btf, t->type, NULL);
	if (!t || !btf_is_array(t))
		return -EINVAL;
	*val = btf_array(t)->nelems;
	return 0;
}

/* `T *name` (libbpf's __type): sizeof(T). */
static int btf_type_member(const struct btf *btf, const struct btf_member *m, uint32_t *size)
{
	const struct btf_type *t = skip_mods(btf, m->type, NULL);
	long long sz;

	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	sz = btf__resolve_size(btf, t->type);
	if (sz <= 0 || sz > UINT32_MAX)
		return -EINVAL;
	*size = sz;
	return 0;
}

/* One ".maps" variable: its definition struct, member by member. */
static int map_from_btf(struct gs_bpfobj *o, const struct btf_type *var, uint32_t var_off,
			size_t sec, char *err, size_t errlen)
{
	const char *name = btf__name_by_offset(o->btf, var->name_off);
	const struct btf_type *def = skip_mods(o->btf, var->type, NULL);
	const struct btf_member *m;
	struct gs_bpfobj_map *map;
	uint64_t off = var_off;

	if (!name || !*name || !def || !btf_is_struct(def)) {
		/* malformed, not for libbpf (btf_uint_member) */
		snprintf(err, errlen, "bpfobj: map '%s' has no definition struct", name ? name : "");
		return -EINVAL;
	}
	/* The symbol is authoritative for the offset (BTF offsets may be left 0). */
	for (size_t i = 1; i < o->nsyms; i++)
		if (o->syms[i].st_shndx == sec && !strcmp(sym_name(o, &o->syms[i]), name))
			off = o->syms[i].st_value;
	map = map_new(o, name, 0, off);
	if (!map)
		return -ENOMEM;
	m = btf_members(def);
	for (uint16_t i = 0; i < btf_vlen(def); i++, m++) {
		const char *mn = btf__name_by_offset(o->btf, m->name_off);
		int ret;

		mn = mn ? mn : "";
		if (!strcmp(mn, "type"))
			ret = btf_uint_member(o->btf, m, &map->type);
		else if (!strcmp(mn, "max_entries"))
			ret = btf_uint_member(o->btf, m, &map->max_entries);
		else if (!strcmp(mn, "map_flags"))
			ret = btf_uint_member(o->btf, m, &map->flags);
		else if (!strcmp(mn, "key_size"))
			ret = btf_uint_member(o->btf, m, &map->key_size);
		else if (!strcmp(mn, "value_size"))
			ret = btf_uint_member(o->btf, m, &map->value_size);
		else if (!strcmp(mn, "key"))
			ret = btf_type_member(o->btf, m, &map->key_size);
		else if (!strcmp(mn, "value"))
			ret = btf_type_member(o->btf, m, &map->value_size);
		else if (!*mn)
			ret = -EINVAL;
		else
			ret = -EOPNOTSUPP;	/* pinning, inner maps, numa_node...: libbpf */
		if (ret) {
			snprintf(err, errlen, "bpfobj: map '%s': %s attribute '%s'", name,
				 ret == -EOPNOTSUPP ? "unsupported" : "malformed", mn);
			return ret;
		}
	}
	if (!map->type) {
		snprintf(err, errlen, "bpfobj: map '%s' has no type", name);
		return -EINVAL;
	}
	return 0;
}

static int maps_btf(struct gs_bpfobj *o, char *err, size_t errlen)
{
	int sec = find_sec(o, ".maps");
	uint32_t n;

	if (sec < 0)
		return 0;
	if (!o->btf) {
		snprintf(err, errlen, "bpfobj: '.maps' without BTF");
		return -EOPNOTSUPP;
	}
	n = btf__type_cnt(o->btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(o->btf, id);
		const struct btf_var_secinfo *vi;
		const char *tn;

		if (!btf_is_datasec(t))
			continue;
		tn = btf__name_by_offset(o->btf, t->name_off);
		if (!tn || strcmp(tn, ".maps"))
			continue;
		vi = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vi++) {
			const struct btf_type *var = btf__type_by_id(o->btf, vi->type);
			int ret;

			if (!var || !btf_is_var(var)) {
				snprintf(err, errlen, "bpfobj: bad '.maps' entry");
				return -EOPNOTSUPP;
			}
			ret = map_from_btf(o, var, vi->offset, sec, err, errlen);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* One array map per data section (".rodata*", ".data*", ".bss*"), as libbpf makes. */
static int maps_data(struct gs_bpfobj *o)
{
	for (size_t i = 1; i < o->nsh; i++) {
		const char *n = sec_name(o, i);
		bool ro = !strncmp(n, ".rodata", 7);
		struct gs_bpfobj_map *m;
		const void *d;
		size_t len;

		if (!(o->sh[i].sh_flags & SHF_ALLOC) || (o->sh[i].sh_flags & SHF_EXECINSTR) ||
		    (!ro && strncmp(n, ".data", 5) && strncmp(n, ".bss", 4)) || !o->sh[i].sh_size)
			continue;
		d = sec_data(o, i, &len);
		if (!d && o->sh[i].sh_type != SHT_NOBITS)
			return -EINVAL;
		if (len > (1u << 30))
			return -EINVAL;
		m = map_new(o, n, i, 0);
		if (!m)
			return -ENOMEM;
		m->type = BPF_MAP_TYPE_ARRAY;
		m->key_size = 4;
		m->value_size = len;
		m->max_entries = 1;
		m->flags = ro ? BPF_F_RDONLY_PROG : 0;
		m->frozen = ro;
		m->data = calloc(1, len);
		if (!m->data)
			return -ENOMEM;
		if (d)
			memcpy(m->data, d, len);
	}
	return 0;
}

/* ---- programs and relocations -------------------------------------------------------- */

static int progs_find(struct gs_bpfobj *o, char *err, size_t errlen)
{
	for (size_t i = 1; i < o->nsyms; i++) {
		const Elf64_Sym *s = &o->syms[i];
		const uint8_t *d;
		struct prog *p;
		size_t len;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_shndx >= o->nsh || !(o->sh[s->st_shndx].sh_flags & SHF_EXECINSTR))
			continue;
		d = sec_data(o, s->st_shndx, &len);
		if (!strcmp(sec_name(o, s->st_shndx), ".text") ||
		    ELF64_ST_BIND(s->st_info) == STB_LOCAL) {
			snprintf(err, errlen, "bpfobj: subprogram '%s'", sym_name(o, s));
			return -EOPNOTSUPP;
		}
		if (!d || (uintptr_t)d % 8 || s->st_value % 8 || s->st_size % 8 || !s->st_size ||
		    s->st_value > len || s->st_size > len - s->st_value) {
			snprintf(err, errlen, "bpfobj: program '%s' out of its section", sym_name(o, s));
			return -EINVAL;
		}
		if (grow((void **)&o->progs, &o->cap_progs, o->nprogs, sizeof(*o->progs)))
			return -ENOMEM;
		p = &o->progs[o->nprogs++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", sym_name(o, s));
		p->insns = (const struct bpf_insn *)(d + s->st_value);
		p->cnt = s->st_size / 8;
		p->sec = s->st_shndx;
		p->off = s->st_value;
		p->fd = -1;
		/* Calls to subprograms and kfuncs, function pointers: libbpf's business. */
		for (size_t k = 0; k < p->cnt; k++) {
			const struct bpf_insn *in = &p->insns[k];

			if ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg) ||
			    (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg)) {
				snprintf(err, errlen, "bpfobj: program '%s' calls a subprogram", p->name);
				return -EOPNOTSUPP;
			}
		}
	}
	return 0;
}

static int map_of_sym(const struct gs_bpfobj *o, const Elf64_Sym *s, int32_t imm, bool *value,
		      uint32_t *off)
{
	int maps_sec = find_sec(o, ".maps");

	for (size_t i = 0; i < o->nmaps; i++) {
		if (o->map_sec[i]) {
			if (o->map_sec[i] != s->st_shndx)
				continue;
			*value = true;
			*off = s->st_value + imm;
			if (*off >= o->maps[i].value_size)
				return -EINVAL;
			return i;
		}
		if (s->st_shndx == maps_sec && o->map_off[i] == s->st_value + (uint64_t)(int64_t)imm &&
		    (ELF64_ST_TYPE(s->st_info) == STT_SECTION || !imm)) {
			*value = false;
			*off = 0;
			return i;
		}
	}
	return -EOPNOTSUPP;
}

static int relos_find(struct gs_bpfobj *o, char *err, size_t errlen)
{
	for (size_t r = 1; r < o->nsh; r++) {
		const Elf64_Shdr *rs = &o->sh[r];
		const Elf64_Rel *rel;
		size_t len;

		if (rs->sh_type == SHT_RELA && rs->sh_info < o->nsh &&
		    (o->sh[rs->sh_info].sh_flags & SHF_EXECINSTR)) {
			snprintf(err, errlen, "bpfobj: RELA relocations");
			return -EOPNOTSUPP;
		}
		if (rs->sh_type != SHT_REL || rs->sh_info >= o->nsh ||
		    !(o->sh[rs->sh_info].sh_flags & SHF_EXECINSTR))
			continue;
		rel = sec_data(o, r, &len);
		if (!rel || (uintptr_t)rel % 8 || rs->sh_entsize != sizeof(*rel))
			return -EINVAL;
		for (size_t k = 0; k < len / sizeof(*rel); k++) {
			uint64_t at = rel[k].r_offset;
			uint32_t si = ELF64_R_SYM(rel[k].r_info);
			const struct prog *p = NULL;
			const struct bpf_insn *in;
			struct relo *re;
			bool value;
			uint32_t off;
			int m;

			for (size_t i = 0; i < o->nprogs && !p; i++)
				if (o->progs[i].sec == rs->sh_info && at >= o->progs[i].off &&
				    at < o->progs[i].off + o->progs[i].cnt * 8)
					p = &o->progs[i];
			if (!p || at % 8 || si >= o->nsyms ||
			    ELF64_R_TYPE(rel[k].r_info) != GS_R_BPF_64_64) {
				snprintf(err, errlen, "bpfobj: unsupported relocation at 0x%llx of '%s'",
					 (unsigned long long)at, sec_name(o, rs->sh_info));
				return -EOPNOTSUPP;
			}
			in = &p->insns[(at - p->off) / 8];
			if (in->code != (BPF_LD | BPF_IMM | BPF_DW) || (at - p->off) / 8 + 1 >= p->cnt)
				return -EINVAL;
			m = map_of_sym(o, &o->syms[si], in->imm, &value, &off);
			if (m < 0) {
				snprintf(err, errlen, "bpfobj: relocation to '%s' is not a map",
					 sym_name(o, &o->syms[si]));
				return m;
			}
			if (grow((void **)&o->relos, &o->cap_relos, o->nrelos, sizeof(*o->relos)))
				return -ENOMEM;
			re = &o->relos[o->nrelos++];
			*re = (struct relo){ .prog = p - o->progs, .insn = (at - p->off) / 8, .map = m,
					     .value = value, .off = off };
		}
	}
	return 0;
}

static int btf_ext_check(struct gs_bpfobj *o, char *err, size_t errlen)
{
	int s = find_sec(o, ".BTF.ext");
	struct btf_ext_hdr h = { 0 };
	const void *d;
	size_t len;

	if (s < 0)
		return 0;
	d = sec_data(o, s, &len);
	if (!d || len < 8)
		return -EINVAL;
	memcpy(&h, d, len < sizeof(h) ? len : sizeof(h));
	if (h.hdr_len >= sizeof(h) && h.core_relo_len) {
		snprintf(err, errlen, "bpfobj: CO-RE relocations");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- open / close --------------------------------------------------------------------- */

void gs_bpfobj_close(struct gs_bpfobj *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nprogs; i++) {
		if (o->progs[i].fd >= 0)
			close(o->progs[i].fd);
		free(o->progs[i].rel);
	}
	for (size_t i = 0; i < o->nmaps; i++) {
		if (o->maps[i].fd >= 0)
			close(o->maps[i].fd);
		free(o->maps[i].data);
	}
	if (o->btf_fd >= 0)
		close(o->btf_fd);
	btf__free(o->btf);
	free(o->progs);
	free(o->maps);
	free(o->map_sec);
	free(o->map_off);
	free(o->relos);
	free(o->buf);
	free(o);
}

int gs_bpfobj_open(const void *obj, size_t len, struct gs_bpfobj **ret, char *err,
		   size_t errlen)
{
	struct gs_bpfobj *o;
	const void *d;
	size_t dl;
	int s, rc;

	*ret = NULL;
	err[0] = '\0';
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->btf_fd = -1;
	o->prog_type = BPF_PROG_TYPE_KPROBE;
	/* 8-aligned copy: sections are then aligned as their sh_addralign says. */
	o->buf = aligned_alloc(8, (len + 7) & ~(size_t)7);
	if (!o->buf) {
		rc = -ENOMEM;
		goto err_free;
	}
	memcpy(o->buf, obj, len);
	o->len = len;
	rc = elf_check(o, err, errlen);
	if (rc)
		goto err_free;
	s = find_sec(o, "license");
	d = s > 0 ? sec_data(o, s, &dl) : NULL;
	snprintf(o->license, sizeof(o->license), "%.*s", d ? (int)strnlen(d, dl) : 0,
		 d ? (const char *)d : "");
	s = find_sec(o, ".BTF");
	d = s > 0 ? sec_data(o, s, &dl) : NULL;
	if (d) {
		/* Quietly: a malformed BTF is our error to report, not libbpf's. */
		libbpf_print_fn_t old = libbpf_set_print(NULL);

		o->btf = btf__new(d, dl);	/* libbpf 1.x: NULL and errno on error */
		libbpf_set_print(old);
		if (!o->btf) {
			snprintf(err, errlen, "bpfobj: malformed BTF");
			rc = -EINVAL;
			goto err_free;
		}
	}
	rc = btf_ext_check(o, err, errlen);
	if (!rc)
		rc = maps_btf(o, err, errlen);
	if (!rc)
		rc = maps_data(o);
	if (!rc)
		rc = progs_find(o, err, errlen);
	if (!rc)
		rc = relos_find(o, err, errlen);
	if (rc)
		goto err_free;
	*ret = o;
	return 0;
err_free:
	if (!err[0])
		snprintf(err, errlen, "bpfobj: cannot read the object: %s", strerror(-rc));
	gs_bpfobj_close(o);
	return rc;
}

struct gs_bpfobj_map *gs_bpfobj_map(struct gs_bpfobj *o, const char *name)
{
	for (size_t i = 0; i < o->nmaps; i++)
		if (!strcmp(o->maps[i].name, name))
			return &o->maps[i];
	return NULL;
}

int gs_bpfobj_map_adopt(struct gs_bpfobj_map *m, int fd)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = fd;
	return 0;
}

int gs_bpfobj_prog(const struct gs_bpfobj *o, const char *name)
{
	for (size_t i = 0; i < o->nprogs; i++)
		if (!strcmp(o->progs[i].name, name))
			return i;
	return -ENOENT;
}

void gs_bpfobj_set_prog_type(struct gs_bpfobj *o, uint32_t prog_type, uint32_t attach_type)
{
	o->prog_type = prog_type;
	o->attach_type = attach_type;
}

int gs_bpfobj_prog_fd(const struct gs_bpfobj *o, int i)
{
	return i >= 0 && (size_t)i < o->nprogs ? o->progs[i].fd : -1;
}

/* ---- load ----------------------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
	int fd = syscall(__NR_bpf, cmd, attr, size);

	return fd < 0 ? -errno : fd;
}

/* The kernel takes [A-Za-z0-9_.] and 15 characters. */
static void obj_name(char out[BPF_OBJ_NAME_LEN], const char *name)
{
	size_t i;

	for (i = 0; i < BPF_OBJ_NAME_LEN - 1 && name[i]; i++)
		out[i] = (name[i] == '_' || name[i] == '.' || (name[i] >= '0' && name[i] <= '9') ||
			  ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z')) ? name[i] : '_';
	out[i] = '\0';
}

static int map_create(struct gs_bpfobj_map *m)
{
	union bpf_attr a;
	uint32_t key = 0;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = m->type;
	a.key_size = m->key_size;
	a.value_size = m->value_size;
	a.max_entries = m->max_entries;
	a.map_flags = m->flags;
	obj_name(a.map_name, m->name);
	fd = sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0)
		return fd;
	m->fd = fd;
	if (!m->data)
		return 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)m->data;
	fd = sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
	if (fd >= 0 && m->frozen) {
		memset(&a, 0, sizeof(a));
		a.map_fd = m->fd;
		fd = sys_bpf(BPF_MAP_FREEZE, &a, sizeof(a));
	}
	return fd < 0 ? fd : 0;
}

/* DATASEC sizes and variable offsets from the ELF, as the kernel checks them. */
static void btf_fixup(struct gs_bpfobj *o)
{
	uint32_t n = btf__type_cnt(o->btf);

	for (uint32_t id = 1; id < n; id++) {
		struct btf_type *t = (struct btf_type *)btf__type_by_id(o->btf, id);
		const char *tn = btf__name_by_offset(o->btf, t->name_off);
		struct btf_var_secinfo *vi;
		int sec;

		if (!btf_is_datasec(t) || !tn || (sec = find_sec(o, tn)) < 0)
			continue;
		t->size = o->sh[sec].sh_size;
		vi = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vi++) {
			const struct btf_type *v = btf__type_by_id(o->btf, vi->type);
			const char *vn = v ? btf__name_by_offset(o->btf, v->name_off) : NULL;

			for (size_t k = 1; vn && k < o->nsyms; k++)
				if (o->syms[k].st_shndx == sec && !strcmp(sym_name(o, &o->syms[k]), vn))
					vi->offset = o->syms[k].st_value;
		}
	}
}

static int btf_load(struct gs_bpfobj *o, char *err, size_t errlen)
{
	const void *raw;
	uint32_t size;
	union bpf_attr a;
	int fd;

	if (!o->btf)
		return 0;
	btf_fixup(o);
	raw = btf__raw_data(o->btf, &size);
	memset(&a, 0, sizeof(a));
	a.btf = (uintptr_t)raw;
	a.btf_size = size;
	fd = raw ? sys_bpf(BPF_BTF_LOAD, &a, sizeof(a)) : -ENOMEM;
	if (fd < 0) {
		snprintf(err, errlen, "loader: kernel rejected the BTF of the object");
		return -EINVAL;
	}
	o->btf_fd = fd;
	return 0;
}

void gs_bpfobj_verifier_tail(const char *log, const char *end, char *out, size_t outlen)
{
	const char *lines[4];
	size_t nl = 0, len[4];

	out[0] = '\0';
	/* Walk back from the end over up to 3 non-empty lines. */
	for (const char *p = end; p > log && nl < 3;) {
		const char *e = p, *s;

		while (e > log && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		s = e;
		while (s > log && s[-1] != '\n')
			s--;
		if (e <= s)
			break;
		/* The kernel's closing summary is not the reason. */
		if (strncmp(s, "processed ", 10) || nl)
			lines[nl] = s, len[nl++] = e - s;
		p = s;
	}
	for (size_t i = nl; i-- > 0;) {
		size_t used = strlen(out);
		/* Register-state lines run long: clip them, the last line is the reason. */
		bool clip = i && len[i] > 120;

		snprintf(out + used, outlen - used, "%s%.*s%s", used ? " | " : "",
			 clip ? 120 : (int)len[i], lines[i], clip ? "..." : "");
	}
}

static int prog_load(struct gs_bpfobj *o, struct prog *p, const struct bpf_insn *insns,
		     char *log, uint32_t log_len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = o->prog_type;
	a.expected_attach_type = o->attach_type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = p->cnt;
	a.license = (uintptr_t)o->license;
	obj_name(a.prog_name, p->name);
	if (log) {
		log[0] = '\0';
		a.log_level = 1;
		a.log_buf = (uintptr_t)log;
		a.log_size = log_len;
	}
	return sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
}

/* A copy of program @i's instructions with the map relocations applied. */
static struct bpf_insn *relocated(const struct gs_bpfobj *o, size_t i)
{
	const struct prog *p = &o->progs[i];
	struct bpf_insn *insns = malloc(p->cnt * sizeof(*insns));

	if (!insns)
		return NULL;
	memcpy(insns, p->insns, p->cnt * sizeof(*insns));
	for (size_t r = 0; r < o->nrelos; r++) {
		const struct relo *re = &o->relos[r];

		if (re->prog != i)
			continue;
		insns[re->insn].src_reg = re->value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD;
		insns[re->insn].imm = o->maps[re->map].fd;
		insns[re->insn + 1].imm = re->value ? re->off : 0;
	}
	return insns;
}

/* Loads rejected program @i again with the verifier's log, for the message. */
static int load_explain(struct gs_bpfobj *o, size_t i, int ret, int *bad_prog_ret, char *err,
			size_t errlen)
{
	struct prog *p = &o->progs[i];
	char *log = calloc(1, GS_LOG_BUF), tail[512];	/* zeroed for valgrind */
	int fd, bad = -1;

	if (!log)
		return ret;
	fd = prog_load(o, p, p->rel, log, GS_LOG_BUF);
	if (fd >= 0) {		/* a transient failure: keep it */
		p->fd = fd;
		free(log);
		return 0;
	}
	log[GS_LOG_BUF - 1] = '\0';
	gs_bpfobj_verifier_tail(log, log + strlen(log), tail, sizeof(tail));
	if (sscanf(p->name, "gs_p%d", &bad) != 1)
		bad = i;
	if (bad_prog_ret)
		*bad_prog_ret = bad;
	if (tail[0])
		snprintf(err, errlen, "program %d: verifier rejected: %s", bad, tail);
	else
		snprintf(err, errlen, "loader: load of '%s' failed: %s", p->name, strerror(-ret));
	free(log);
	return ret;
}

struct load_job {
	struct gs_bpfobj *o;
	size_t next;
};

static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->o->nprogs) {
		struct prog *p = &j->o->progs[i];

		if (p->same_as < 0)
			p->fd = prog_load(j->o, p, p->rel, NULL, 0);
	}
	return NULL;
}

/*
 * Loads every program: byte-identical ones (inlined copies often compile to the same
 * code) once, shared with dup(); the others on up to one thread per CPU, since the
 * verifier's time is most of a load and programs verify independently.
 */
static int load_progs(struct gs_bpfobj *o, int *bad_prog_ret, char *err, size_t errlen)
{
	struct load_job job = { .o = o };
	pthread_t th[GS_LOAD_THREADS];
	size_t nth = 0, uniq = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret = 0;

	for (size_t i = 0; i < o->nprogs; i++) {
		struct prog *p = &o->progs[i];

		p->same_as = -1;
		p->rel = relocated(o, i);
		if (!p->rel)
			return -ENOMEM;
		for (size_t k = 0; k < i && p->same_as < 0; k++)
			if (o->progs[k].same_as < 0 && o->progs[k].cnt == p->cnt &&
			    !memcmp(o->progs[k].rel, p->rel, p->cnt * sizeof(*p->rel)))
				p->same_as = k;
		uniq += p->same_as < 0;
	}
	while (nth + 1 < uniq && (long)nth + 1 < cpus && nth < GS_LOAD_THREADS &&
	       !gs_loader_thread_start(&th[nth], load_worker, &job))
		nth++;
	load_worker(&job);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < o->nprogs && !ret; i++) {
		struct prog *p = &o->progs[i];

		if (p->same_as >= 0) {
			p->fd = o->progs[p->same_as].fd < 0 ? o->progs[p->same_as].fd :
				fcntl(o->progs[p->same_as].fd, F_DUPFD_CLOEXEC, 0);
			if (p->fd < 0 && o->progs[p->same_as].fd >= 0)
				p->fd = -errno;
		}
		if (p->fd < 0)
			ret = load_explain(o, i, p->fd, bad_prog_ret, err, errlen);
	}
	return ret;
}

int gs_bpfobj_load(struct gs_bpfobj *o, bool with_btf, int *bad_prog_ret, char *err,
		   size_t errlen)
{
	int ret;

	if (bad_prog_ret)
		*bad_prog_ret = -1;
	if (with_btf) {
		ret = btf_load(o, err, errlen);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < o->nmaps; i++) {
		if (o->maps[i].fd >= 0)
			continue;
		ret = map_create(&o->maps[i]);
		if (ret) {
			snprintf(err, errlen, "loader: cannot create map '%s': %s", o->maps[i].name,
				 strerror(-ret));
			return ret;
		}
	}
	return load_progs(o, bad_prog_ret, err, errlen);
}
