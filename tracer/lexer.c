// SPDX-License-Identifier: GPL-2.0-or-later
/* The script lexer: tokens, comments, literal checks, line and column tracking. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tracer/lexer.h"

static bool is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

__attribute__((format(printf, 4, 5)))
static int lex_error(struct gs_lexer *lx, size_t start, size_t end, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = gs_diag_set(lx->diag, lx->origin, lx->src, lx->len, start, end, "%s", msg);
	return err ? err : -EINVAL;
}

void gs_lexer_init(struct gs_lexer *lx, const char *src, size_t len, const char *origin,
		   struct gs_diag *diag)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->origin = origin;
	lx->diag = diag;
}

static int peek(const struct gs_lexer *lx, size_t ahead)
{
	return lx->pos + ahead < lx->len ? (unsigned char)lx->src[lx->pos + ahead] : -1;
}

static void newline(struct gs_lexer *lx)
{
	lx->line++;
	lx->line_start = lx->pos;
}

/* Skips whitespace and comments; fails only on an unterminated block comment. */
static int skip_space(struct gs_lexer *lx)
{
	for (;;) {
		int c = peek(lx, 0);

		if (c == '\n') {
			lx->pos++;
			newline(lx);
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->pos++;
		} else if (c == '/' && peek(lx, 1) == '/') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && peek(lx, 1) == '*') {
			size_t start = lx->pos;

			lx->pos += 2;
			for (;;) {
				if (lx->pos >= lx->len)
					return lex_error(lx, start, start + 2,
							 "unterminated comment");
				if (lx->src[lx->pos] == '*' && peek(lx, 1) == '/') {
					lx->pos += 2;
					break;
				}
				if (lx->src[lx->pos++] == '\n')
					newline(lx);
			}
		} else {
			return 0;
		}
	}
}

int gs_lex_escape(const char *p, size_t n, uint8_t *byte_ret, size_t *used_ret)
{
	unsigned int v = 0;
	size_t i;

	if (n == 0)
		return -EINVAL;
	switch (p[0]) {
	case 'n': *byte_ret = '\n'; break;
	case 't': *byte_ret = '\t'; break;
	case 'r': *byte_ret = '\r'; break;
	case 'a': *byte_ret = '\a'; break;
	case 'b': *byte_ret = '\b'; break;
	case 'f': *byte_ret = '\f'; break;
	case 'v': *byte_ret = '\v'; break;
	case 'e': *byte_ret = 0x1b; break;
	case '\\': case '"': case '\'': case '?':
		*byte_ret = (uint8_t)p[0];
		break;
	case 'x':
		/* At most two digits: "\x41BC" is "ABC", unlike C's greedy \x. */
		for (i = 1; i < n && i < 3 && hex_value((unsigned char)p[i]) >= 0; i++)
			v = v * 16 + (unsigned int)hex_value((unsigned char)p[i]);
		if (i == 1)
			return -EINVAL;
		*byte_ret = (uint8_t)v;
		*used_ret = i;
		return 0;
	default:
		if (p[0] < '0' || p[0] > '7')
			return -EINVAL;
		for (i = 0; i < n && i < 3 && p[i] >= '0' && p[i] <= '7'; i++)
			v = v * 8 + (unsigned int)(p[i] - '0');
		if (v > 0xff)
			return -EINVAL;
		*byte_ret = (uint8_t)v;
		*used_ret = i;
		return 0;
	}
	*used_ret = 1;
	return 0;
}

void gs_lex_string_decode(const char *src, const struct gs_token *tok, char *out,
			  size_t *len_ret)
{
	const char *p = src + tok->start + 1, *end = src + tok->end - 1;
	size_t n = 0;

	while (p < end) {
		uint8_t b;
		size_t used;

		if (*p == '\\' && !gs_lex_escape(p + 1, (size_t)(end - p - 1), &b, &used)) {
			out[n++] = (char)b;
			p += 1 + used;
		} else {
			out[n++] = *p++;
		}
	}
	*len_ret = n;
}

int gs_lex_int(const char *p, size_t n, uint64_t *val_ret)
{
	unsigned int base = 10;
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	if (n >= 2 && p[0] == '0') {
		switch (p[1]) {
		case 'x': case 'X': base = 16; i = 2; break;
		case 'o': case 'O': base = 8; i = 2; break;
		case 'b': case 'B': base = 2; i = 2; break;
		default: break;
		}
	}
	if (base == 10 && n >= 2 && p[0] == '0') {
		for (i = 1; i < n && p[i] == '_'; i++)
			;
		if (i < n)
			return -EINVAL;	/* "017": C would read octal, we refuse to guess */
		*val_ret = 0;
		return 0;
	}
	for (; i < n; i++) {
		int d;

		if (p[i] == '_' && (i > 0))
			continue;
		d = hex_value((unsigned char)p[i]);
		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			return -ERANGE;
		v = v * base + (unsigned int)d;
		digits++;
	}
	if (!digits)
		return -EINVAL;
	*val_ret = v;
	return 0;
}

static int lex_number(struct gs_lexer *lx, struct gs_token *tok)
{
	size_t start = lx->pos;
	const char *p = lx->src + start;
	int err;

	while (lx->pos < lx->len && is_ident_char((unsigned char)lx->src[lx->pos]))
		lx->pos++;
	err = gs_lex_int(p, lx->pos - start, &tok->ival);
	if (err == -ERANGE)
		return lex_error(lx, start, lx->pos, "integer literal '%.*s' does not fit in 64 bits",
				 (int)(lx->pos - start), p);
	if (err && p[0] == '0' && lx->pos - start > 1 && p[1] >= '0' && p[1] <= '9')
		return lex_error(lx, start, lx->pos,
				 "leading zeros are not allowed in '%.*s'; write octal as 0o...",
				 (int)(lx->pos - start), p);
	if (err)
		return lex_error(lx, start, lx->pos, "invalid integer literal '%.*s'",
				 (int)(lx->pos - start), p);
	tok->kind = GS_TOK_INT;
	return 0;
}

static int lex_string(struct gs_lexer *lx, struct gs_token *tok)
{
	size_t start = lx->pos;

	lx->pos++;
	for (;;) {
		int c = peek(lx, 0);
		uint8_t b;
		size_t used;

		if (c < 0 || c == '\n') {
			size_t end = lx->pos;

			return lex_error(lx, start, end, "unterminated string literal");
		}
		if (c == '"')
			break;
		if (c == '\\') {
			if (gs_lex_escape(lx->src + lx->pos + 1, lx->len - lx->pos - 1, &b, &used)) {
				int n = lx->pos + 1 < lx->len && lx->src[lx->pos + 1] != '\n' ? 2 : 1;

				return lex_error(lx, lx->pos, lx->pos + (size_t)n,
						 "invalid escape '%.*s' in string literal",
						 n, lx->src + lx->pos);
			}
			lx->pos += 1 + used;
			continue;
		}
		lx->pos++;
	}
	lx->pos++;
	tok->kind = GS_TOK_STR;
	return 0;
}

static void lex_ident(struct gs_lexer *lx)
{
	while (lx->pos < lx->len) {
		if (is_ident_char((unsigned char)lx->src[lx->pos]))
			lx->pos++;
		else if (peek(lx, 0) == ':' && peek(lx, 1) == ':' && is_ident_start(peek(lx, 2)))
			lx->pos += 2;	/* C++ qualified name: ns::counter */
		else
			break;
	}
}

/* Two-character operators first, then one-character ones. */
static const struct {
	const char *text;
	enum gs_tok_kind kind;
	const char *quoted;	/* for messages */
} punct[] = {
	{ "<<", GS_TOK_SHL, "'<<'" }, { ">>", GS_TOK_SHR, "'>>'" }, { "<=", GS_TOK_LE, "'<='" },
	{ ">=", GS_TOK_GE, "'>='" }, { "==", GS_TOK_EQ, "'=='" }, { "!=", GS_TOK_NE, "'!='" },
	{ "&&", GS_TOK_ANDAND, "'&&'" }, { "||", GS_TOK_OROR, "'||'" }, { "{", GS_TOK_LBRACE, "'{'" },
	{ "}", GS_TOK_RBRACE, "'}'" }, { "(", GS_TOK_LPAREN, "'('" }, { ")", GS_TOK_RPAREN, "')'" },
	{ "[", GS_TOK_LBRACKET, "'['" }, { "]", GS_TOK_RBRACKET, "']'" }, { ";", GS_TOK_SEMI, "';'" },
	{ ",", GS_TOK_COMMA, "','" }, { ".", GS_TOK_DOT, "'.'" }, { "+", GS_TOK_PLUS, "'+'" },
	{ "-", GS_TOK_MINUS, "'-'" }, { "*", GS_TOK_STAR, "'*'" }, { "/", GS_TOK_SLASH, "'/'" },
	{ "%", GS_TOK_PERCENT, "'%'" }, { "<", GS_TOK_LT, "'<'" }, { ">", GS_TOK_GT, "'>'" },
	{ "&", GS_TOK_AMP, "'&'" }, { "^", GS_TOK_CARET, "'^'" }, { "|", GS_TOK_PIPE, "'|'" },
	{ "!", GS_TOK_BANG, "'!'" }, { "~", GS_TOK_TILDE, "'~'" }, { "=", GS_TOK_ASSIGN, "'='" },
};

static int lex_punct(struct gs_lexer *lx, struct gs_token *tok)
{
	size_t rest = lx->len - lx->pos;
	int c = peek(lx, 0);

	if (c == '-' && peek(lx, 1) == '>')
		return lex_error(lx, lx->pos, lx->pos + 2,
				 "'->' is not needed: '.' dereferences pointers automatically");
	for (size_t i = 0; i < sizeof(punct) / sizeof(punct[0]); i++) {
		size_t n = strlen(punct[i].text);

		if (n <= rest && !memcmp(lx->src + lx->pos, punct[i].text, n)) {
			lx->pos += n;
			tok->kind = punct[i].kind;
			return 0;
		}
	}
	if (c >= 0x20 && c < 0x7f)
		return lex_error(lx, lx->pos, lx->pos + 1, "unexpected character '%c'", c);
	return lex_error(lx, lx->pos, lx->pos + 1, "unexpected byte 0x%02x", (unsigned int)c);
}

static void tok_begin(const struct gs_lexer *lx, struct gs_token *tok)
{
	memset(tok, 0, sizeof(*tok));
	tok->start = (uint32_t)lx->pos;
	tok->line = lx->line;
	tok->col = (uint32_t)(lx->pos - lx->line_start) + 1;
}

int gs_lexer_next(struct gs_lexer *lx, struct gs_token *tok)
{
	int err = skip_space(lx);
	int c;

	if (err)
		return err;
	tok_begin(lx, tok);
	c = peek(lx, 0);
	if (c < 0) {
		tok->kind = GS_TOK_EOF;
	} else if (c >= '0' && c <= '9') {
		err = lex_number(lx, tok);
	} else if (is_ident_start(c)) {
		lex_ident(lx);
		tok->kind = GS_TOK_IDENT;
	} else if (c == '"') {
		err = lex_string(lx, tok);
	} else if (c == '$') {
		lx->pos++;
		if (!is_ident_start(peek(lx, 0)))
			return lex_error(lx, tok->start, tok->start + 1,
					 "expected a special variable name after '$'");
		while (lx->pos < lx->len && is_ident_char((unsigned char)lx->src[lx->pos]))
			lx->pos++;
		tok->kind = GS_TOK_SPECIAL;
	} else {
		err = lex_punct(lx, tok);
	}
	tok->end = (uint32_t)lx->pos;
	return err;
}

static bool ends_pattern(const struct gs_lexer *lx)
{
	int c = peek(lx, 0);

	if (c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v' || strchr("{};()\"", c))
		return true;
	return c == '/' && (peek(lx, 1) == '/' || peek(lx, 1) == '*');
}

int gs_lexer_pattern(struct gs_lexer *lx, struct gs_token *tok)
{
	int err = skip_space(lx);

	if (err)
		return err;
	tok_begin(lx, tok);
	while (!ends_pattern(lx))
		lx->pos++;
	tok->end = (uint32_t)lx->pos;
	tok->kind = GS_TOK_PATTERN;
	if (tok->end == tok->start)
		return lex_error(lx, tok->start, tok->start,
				 "expected a probe pattern after 'trace' (a function, FILE:LINE, 0xADDR or MODULE:0xADDR)");
	return 0;
}

const char *gs_tok_kind_name(enum gs_tok_kind kind)
{
	switch (kind) {
	case GS_TOK_EOF: return "end of input";
	case GS_TOK_IDENT: return "identifier";
	case GS_TOK_INT: return "integer";
	case GS_TOK_STR: return "string";
	case GS_TOK_SPECIAL: return "special variable";
	case GS_TOK_PATTERN: return "probe pattern";
	default: break;
	}
	for (size_t i = 0; i < sizeof(punct) / sizeof(punct[0]); i++) {
		if (punct[i].kind == kind)
			return punct[i].quoted;
	}
	return "token";
}
