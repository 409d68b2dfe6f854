/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The script lexer: turns script text into tokens on demand, one at a time, for the
 * parser. It skips whitespace and comments (line comments from // and block
 * comments from slash-star to star-slash, not nested), tracks line and column, and
 * checks tokens as it makes them: integer literals (decimal, 0x, 0o, 0b, '_'
 * separators, fitting in 64 bits), string escapes, special-variable shape. It does not decide what words mean: keywords are
 * GS_TOK_IDENT and the parser tells them apart, because most keywords are only
 * keywords where a statement starts.
 *
 * Probe patterns (after `trace`) do not follow expression token rules ("shop.c:33",
 * "/usr/lib/libshop.so:0x2040"), so the parser asks for them explicitly with
 * gs_lexer_pattern().
 *
 * The lexer borrows the source and the diag; both must outlive it. A lexer holds no
 * heap memory: copy the struct to look ahead, copy it back to rewind.
 */
#ifndef GS_TRACER_LEXER_H
#define GS_TRACER_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/diag.h"

enum gs_tok_kind {
	GS_TOK_EOF,
	GS_TOK_IDENT,		/* [A-Za-z_][A-Za-z0-9_]* with optional ::segments */
	GS_TOK_INT,		/* ival holds the value (up to UINT64_MAX) */
	GS_TOK_STR,		/* "..." quotes included in the span; escapes checked */
	GS_TOK_SPECIAL,		/* $name, '$' included in the span */
	GS_TOK_PATTERN,		/* from gs_lexer_pattern() only */
	GS_TOK_LBRACE, GS_TOK_RBRACE, GS_TOK_LPAREN, GS_TOK_RPAREN,
	GS_TOK_LBRACKET, GS_TOK_RBRACKET, GS_TOK_SEMI, GS_TOK_COMMA, GS_TOK_DOT,
	GS_TOK_PLUS, GS_TOK_MINUS, GS_TOK_STAR, GS_TOK_SLASH, GS_TOK_PERCENT,
	GS_TOK_SHL, GS_TOK_SHR, GS_TOK_LT, GS_TOK_LE, GS_TOK_GT, GS_TOK_GE,
	GS_TOK_EQ, GS_TOK_NE, GS_TOK_AMP, GS_TOK_CARET, GS_TOK_PIPE,
	GS_TOK_ANDAND, GS_TOK_OROR, GS_TOK_BANG, GS_TOK_TILDE, GS_TOK_ASSIGN,
};

struct gs_token {
	enum gs_tok_kind kind;
	uint32_t start, end;	/* byte range in the source */
	uint32_t line, col;	/* 1-based position of start */
	uint64_t ival;		/* GS_TOK_INT */
};

struct gs_lexer {
	const char *src;
	size_t len;
	size_t pos;
	uint32_t line;
	size_t line_start;	/* offset of the first byte of the current line */
	const char *origin;
	struct gs_diag *diag;	/* may be NULL: errors are then only returned */
};

/* Sources of 4 GiB or more are rejected by the parser before a lexer is made. */
void gs_lexer_init(struct gs_lexer *lx, const char *src, size_t len, const char *origin,
		   struct gs_diag *diag);

/*
 * Reads the next token into *@tok (GS_TOK_EOF at the end, again and again).
 * Returns 0, or -EINVAL after recording the error in the diag (the lexer position is
 * then unspecified), or -ENOMEM when the diag could not be recorded.
 */
int gs_lexer_next(struct gs_lexer *lx, struct gs_token *tok);

/*
 * Reads a probe pattern: after whitespace and comments, every byte up to whitespace,
 * one of `{ } ; ( ) "`, a comment start, or the end. An empty pattern is an error.
 * Returns as gs_lexer_next(); *@tok is GS_TOK_PATTERN.
 */
int gs_lexer_pattern(struct gs_lexer *lx, struct gs_token *tok);

/*
 * Decodes one escape sequence: @p points just after the backslash, @n bytes remain.
 * Sets *@byte_ret and *@used_ret (bytes consumed after the backslash).
 * Returns 0, or -EINVAL for an unknown or incomplete escape.
 */
int gs_lex_escape(const char *p, size_t n, uint8_t *byte_ret, size_t *used_ret);

/*
 * Decodes the string literal token @tok of @src into @out, which must hold at least
 * tok->end - tok->start bytes; sets *@len_ret (the decoded text may contain NULs and
 * is not NUL-terminated). The token was checked by the lexer, so this cannot fail.
 */
void gs_lex_string_decode(const char *src, const struct gs_token *tok, char *out,
			  size_t *len_ret);

/*
 * Parses an integer literal of @n bytes: decimal, 0x, 0o or 0b (either case),
 * '_' ignored after the first character, at least one digit, no leading zero in
 * decimal. Returns 0, -EINVAL when malformed, -ERANGE when above UINT64_MAX.
 */
int gs_lex_int(const char *p, size_t n, uint64_t *val_ret);

/* How a token kind reads in a message: "'{'", "identifier", "end of input". */
const char *gs_tok_kind_name(enum gs_tok_kind kind);

#endif /* GS_TRACER_LEXER_H */
