// SPDX-License-Identifier: GPL-2.0-or-later
/* Text for errnos and GhostScope's domain error codes. */
#include <string.h>

#include "shared/errors.h"

const char *gs_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
#define GS_ERR_CASE(name, val, text) case (val): return (text);
	GS_ERRORS(GS_ERR_CASE)
#undef GS_ERR_CASE
	default:
		return strerror(err);
	}
}
