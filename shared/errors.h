/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domain error codes, returned negated like errnos, in a range no errno reaches,
 * and gs_strerror() that names both kinds.
 */
#ifndef GS_SHARED_ERRORS_H
#define GS_SHARED_ERRORS_H

#define GS_ERRORS(X)							\
	X(GS_ERR_CORRUPT,	4000, "index record is corrupt")		\
	X(GS_ERR_SCHEMA,	4001, "index schema version mismatch")	\
	X(GS_ERR_STALE,		4002, "index is stale")			\
	X(GS_ERR_NO_DWARF,	4003, "no DWARF debug info")		\
	X(GS_ERR_UNSUPPORTED_OP, 4004, "unsupported DWARF location operation") \
	X(GS_ERR_NOT_ELF,	4005, "not an ELF file")			\
	X(GS_ERR_BAD_ELF,	4006, "malformed ELF file")		\
	X(GS_ERR_BAD_DWARF,	4007, "malformed DWARF")			\
	X(GS_ERR_NO_BUILD_ID,	4008, "no GNU build-id")			\
	X(GS_ERR_BUILD_ID_MISMATCH, 4009, "debug file build-id does not match") \
	X(GS_ERR_NOT_INDEXED,	4010, "module is not indexed")		\
	X(GS_ERR_AMBIGUOUS,	4011, "ambiguous name")			\
	X(GS_ERR_LMDB,		4012, "LMDB error")

enum gs_error {
#define GS_ERR_ENUM(name, val, text) name = (val),
	GS_ERRORS(GS_ERR_ENUM)
#undef GS_ERR_ENUM
};

/* Text for a negative errno or negative GS_ERR_*; never NULL, thread-safe. */
const char *gs_strerror(int err);

#endif /* GS_SHARED_ERRORS_H */
