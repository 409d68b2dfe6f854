// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ELF helpers over libelf: open/close, build-id, type, PT_LOAD segments, symbols and
 * vaddr -> file offset. Every read goes through libelf's bounds-checked accessors.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/elf.h"
#include "shared/errors.h"

struct gs_elf {
	int fd;
	Elf *elf;
	char *path;
};

static pthread_once_t elf_version_once = PTHREAD_ONCE_INIT;

static void elf_version_init(void)
{
	elf_version(EV_CURRENT);
}

void gs_elf_close(struct gs_elf *elf)
{
	if (!elf)
		return;
	if (elf->elf)
		elf_end(elf->elf);
	if (elf->fd >= 0)
		close(elf->fd);
	free(elf->path);
	free(elf);
}

/* Checks what every later reader assumes: an ELF header and readable counts. */
static int elf_check_headers(struct gs_elf *elf)
{
	GElf_Ehdr ehdr;
	size_t n;

	if (!gelf_getehdr(elf->elf, &ehdr) || elf_getphdrnum(elf->elf, &n) ||
	    elf_getshdrnum(elf->elf, &n)) {
		fprintf(stderr, "elf: bad headers in '%s': %s\n", elf->path, elf_errmsg(-1));
		return -GS_ERR_BAD_ELF;
	}
	return 0;
}

int gs_elf_open(const char *path, struct gs_elf **elf_ret)
{
	struct gs_elf *elf;
	struct stat st;
	int err;

	*elf_ret = NULL;
	pthread_once(&elf_version_once, elf_version_init);
	elf = calloc(1, sizeof(*elf));
	if (!elf)
		return -ENOMEM;
	elf->fd = -1;
	elf->path = strdup(path);
	if (!elf->path) {
		err = -ENOMEM;
		goto err_free;
	}
	elf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (elf->fd < 0 || fstat(elf->fd, &st)) {
		err = -errno;
		goto err_free;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto err_free;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) {
		err = -GS_ERR_NOT_ELF;
		goto err_free;
	}
	elf->elf = elf_begin(elf->fd, ELF_C_READ_MMAP, NULL);
	if (!elf->elf) {
		fprintf(stderr, "elf: cannot read '%s': %s\n", path, elf_errmsg(-1));
		err = -GS_ERR_BAD_ELF;
		goto err_free;
	}
	if (elf_kind(elf->elf) != ELF_K_ELF) {
		err = -GS_ERR_NOT_ELF;
		goto err_free;
	}
	err = elf_check_headers(elf);
	if (err)
		goto err_free;
	*elf_ret = elf;
	return 0;

err_free:
	gs_elf_close(elf);
	return err;
}

Elf *gs_elf_handle(struct gs_elf *elf)
{
	return elf->elf;
}

const char *gs_elf_path(struct gs_elf *elf)
{
	return elf->path;
}

static void hex_of(const uint8_t *p, size_t len, char hex_ret[41])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex_ret[2 * i] = digits[p[i] >> 4];
		hex_ret[2 * i + 1] = digits[p[i] & 15];
	}
	hex_ret[2 * len] = '\0';
}

/* The NT_GNU_BUILD_ID note among the notes of @data: its length and *@id, or 0. */
static ssize_t data_build_id(Elf_Data *data, const void **id)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4)) {
			*id = (const char *)data->d_buf + desc_off;
			return nh.n_descsz;
		}
	}
	return 0;
}

/*
 * The GNU build-id of @elf: from its SHT_NOTE sections, else its PT_NOTE segments (a
 * file without section headers). Its length and *@id, 0 if none, -1 on a bad file.
 * libelf alone: ghostscope, linked static, does not link libdw's dwelf.
 */
static ssize_t elf_gnu_build_id(Elf *elf, const void **id)
{
	Elf_Scn *scn = NULL;
	size_t phnum;
	ssize_t len;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return -1;
		if (sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && (len = data_build_id(d, id)) > 0)
			return len;
	}
	if (elf_getphdrnum(elf, &phnum))
		return -1;
	for (size_t i = 0; i < phnum; i++) {
		Elf_Data *d;
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz,
					 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (d && (len = data_build_id(d, id)) > 0)
			return len;
	}
	return 0;
}

int gs_elf_build_id_raw(Elf *elf, char hex_ret[41])
{
	const void *p;
	ssize_t len;

	hex_ret[0] = '\0';
	len = elf_gnu_build_id(elf, &p);
	if (len < 0)
		return -GS_ERR_BAD_ELF;
	if (len == 0)
		return -GS_ERR_NO_BUILD_ID;
	if (len > 20)
		return -E2BIG;
	hex_of(p, (size_t)len, hex_ret);
	return 0;
}

int gs_elf_build_id(struct gs_elf *elf, char hex_ret[41])
{
	return gs_elf_build_id_raw(elf->elf, hex_ret);
}

/* The GNU build-id note in @n bytes of notes aligned to @align: its descriptor. */
static int note_build_id(const uint8_t *p, size_t n, size_t align, size_t *desc_ret,
			 size_t *len_ret)
{
	size_t off = 0;

	while (n - off >= 12) {
		uint32_t namesz, descsz, type;
		size_t name, desc, next;

		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		name = off + 12;
		desc = name + ((namesz + align - 1) & ~(align - 1));
		next = desc + ((descsz + align - 1) & ~(align - 1));
		if (namesz > n || descsz > n || desc > n || next > n || next <= off)
			return -ENOENT;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + name, "GNU", 4) &&
		    descsz > 0 && descsz <= 20) {
			*desc_ret = desc;
			*len_ret = descsz;
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

int gs_elf_pread_phdrs(int fd, Elf64_Ehdr *eh, Elf64_Phdr *ph, size_t max)
{
	size_t size;

	if (pread(fd, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !eh->e_phnum || eh->e_phnum > max)
		return -ENOENT;
	size = eh->e_phnum * sizeof(Elf64_Phdr);
	if (pread(fd, ph, size, (off_t)eh->e_phoff) != (ssize_t)size)
		return -ENOENT;
	return eh->e_phnum;
}

int gs_elf_pread_build_id(int fd, const Elf64_Phdr *ph, uint8_t id_ret[20], size_t *len_ret,
			  uint64_t *vaddr_ret)
{
	uint8_t notes[4096];
	size_t desc;

	if (ph->p_type != PT_NOTE || !ph->p_filesz || ph->p_filesz > sizeof(notes) ||
	    pread(fd, notes, ph->p_filesz, (off_t)ph->p_offset) != (ssize_t)ph->p_filesz ||
	    note_build_id(notes, ph->p_filesz, ph->p_align == 8 ? 8 : 4, &desc, len_ret))
		return -ENOENT;
	memcpy(id_ret, notes + desc, *len_ret);
	*vaddr_ret = ph->p_vaddr + desc;
	return 0;
}

/*
 * The build-id from the PT_NOTE segments, read with a few preads. Opening the file
 * with libelf maps and checks all of it, 0.2 ms for nginx on the VMs we measure on,
 * and the tracer asks once per module at every start. -ENOENT sends the caller to
 * libelf (other classes, notes only in sections).
 */
static int build_id_from_phdrs(int fd, char hex_ret[41])
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[GS_ELF_PHDR_MAX];
	uint8_t id[20];
	uint64_t vaddr;
	size_t len;
	int n = gs_elf_pread_phdrs(fd, &eh, ph, GS_ELF_PHDR_MAX);

	for (int i = 0; i < n; i++) {
		if (!gs_elf_pread_build_id(fd, &ph[i], id, &len, &vaddr)) {
			hex_of(id, len, hex_ret);
			return 0;
		}
	}
	return -ENOENT;
}

int gs_build_id_of_path(const char *path, char hex_ret[41])
{
	struct gs_elf *elf;
	int err, fd;

	hex_ret[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		err = build_id_from_phdrs(fd, hex_ret);
		close(fd);
		if (!err)
			return 0;
	}
	err = gs_elf_open(path, &elf);
	if (err)
		return err;
	err = gs_elf_build_id(elf, hex_ret);
	gs_elf_close(elf);
	return err;
}

static char self_id[41];
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void self_id_read(void)
{
	if (gs_build_id_of_path("/proc/self/exe", self_id))
		self_id[0] = '\0';
}

const char *gs_self_build_id(void)
{
	pthread_once(&self_once, self_id_read);
	return self_id;
}

int gs_elf_type(struct gs_elf *elf, uint16_t *type_ret, uint16_t *machine_ret)
{
	GElf_Ehdr ehdr;

	if (!gelf_getehdr(elf->elf, &ehdr))
		return -GS_ERR_BAD_ELF;
	*type_ret = ehdr.e_type;
	*machine_ret = ehdr.e_machine;
	return 0;
}

int gs_elf_segments(struct gs_elf *elf, struct gs_segment **segs_ret, size_t *cnt_ret)
{
	struct gs_segment *segs = NULL;
	size_t phnum, cnt = 0;
	GElf_Phdr phdr;

	*segs_ret = NULL;
	*cnt_ret = 0;
	if (elf_getphdrnum(elf->elf, &phnum))
		return -GS_ERR_BAD_ELF;
	if (phnum == 0)
		return 0;
	segs = calloc(phnum, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		if (!gelf_getphdr(elf->elf, (int)i, &phdr)) {
			fprintf(stderr, "elf: bad program header %zu in '%s': %s\n", i,
				elf->path, elf_errmsg(-1));
			free(segs);
			return -GS_ERR_BAD_ELF;
		}
		if (phdr.p_type != PT_LOAD)
			continue;
		segs[cnt++] = (struct gs_segment){
			.vaddr = phdr.p_vaddr, .memsz = phdr.p_memsz,
			.offset = phdr.p_offset, .filesz = phdr.p_filesz,
			.flags = phdr.p_flags,
		};
	}
	if (cnt == 0) {
		free(segs);
		return 0;
	}
	*segs_ret = segs;
	*cnt_ret = cnt;
	return 0;
}

static bool symbol_wanted(const GElf_Sym *sym, const char *name)
{
	uint8_t type = GELF_ST_TYPE(sym->st_info);

	if (!name || !name[0] || sym->st_shndx == SHN_UNDEF)
		return false;
	return type != STT_SECTION && type != STT_FILE;
}

/* Appends the wanted symbols of one symbol table section to @syms (sized by caller). */
static int symbols_add_table(struct gs_elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr,
			     struct gs_symbol *syms, size_t cap, size_t *cnt)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t nsyms;
	GElf_Sym sym;

	if (!data)
		goto err_bad;
	nsyms = data->d_size / gelf_fsize(elf->elf, ELF_T_SYM, 1, EV_CURRENT);
	for (size_t i = 1; i < nsyms && *cnt < cap; i++) {
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			goto err_bad;
		name = elf_strptr(elf->elf, shdr->sh_link, sym.st_name);
		if (!symbol_wanted(&sym, name))
			continue;
		syms[(*cnt)++] = (struct gs_symbol){
			.name = name, .value = sym.st_value, .size = sym.st_size,
			.type = GELF_ST_TYPE(sym.st_info), .bind = GELF_ST_BIND(sym.st_info),
			.dynamic = shdr->sh_type == SHT_DYNSYM,
		};
	}
	return 0;

err_bad:
	fprintf(stderr, "elf: bad symbol table in '%s': %s\n", elf->path, elf_errmsg(-1));
	return -GS_ERR_BAD_ELF;
}

/*
 * Upper bound on the symbol count: the sum of both tables' entry counts, from the data
 * libelf actually loaded (sh_size alone is file-controlled and may be absurd).
 */
static size_t symbols_capacity(struct gs_elf *elf)
{
	size_t esz = gelf_fsize(elf->elf, ELF_T_SYM, 1, EV_CURRENT);
	size_t cap = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	if (!esz)
		return 0;
	while ((scn = elf_nextscn(elf->elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) ||
		    (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (data)
			cap += data->d_size / esz;
	}
	return cap;
}

int gs_elf_symbols(struct gs_elf *elf, struct gs_symbol **syms_ret, size_t *cnt_ret)
{
	static const Elf64_Word order[] = { SHT_SYMTAB, SHT_DYNSYM };
	struct gs_symbol *syms;
	size_t cap, cnt = 0;
	GElf_Shdr shdr;
	int err;

	*syms_ret = NULL;
	*cnt_ret = 0;
	cap = symbols_capacity(elf);
	if (cap == 0)
		return 0;
	syms = calloc(cap, sizeof(*syms));
	if (!syms)
		return -ENOMEM;
	for (size_t k = 0; k < 2; k++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf->elf, scn))) {
			if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != order[k])
				continue;
			err = symbols_add_table(elf, scn, &shdr, syms, cap, &cnt);
			if (err) {
				free(syms);
				return err;
			}
		}
	}
	if (cnt == 0) {
		free(syms);
		return 0;
	}
	*syms_ret = syms;
	*cnt_ret = cnt;
	return 0;
}

int gs_elf_vaddr_to_offset(const struct gs_segment *segs, size_t cnt, uint64_t vaddr,
			   uint64_t *off_ret)
{
	for (size_t i = 0; i < cnt; i++) {
		if (vaddr >= segs[i].vaddr && vaddr - segs[i].vaddr < segs[i].filesz) {
			*off_ret = vaddr - segs[i].vaddr + segs[i].offset;
			return 0;
		}
	}
	return -ENOENT;
}

Elf_Scn *gs_elf_section_by_name(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}
