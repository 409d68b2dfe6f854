/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CFI fixture: one function that uses every call frame instruction the table handles. */
	.text
	.globl	cfi_ops
	.type	cfi_ops, @function
cfi_ops:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	.cfi_remember_state
	nop
	.cfi_register %rbp, %rax
	nop
	.cfi_escape 0x15, 0x06, 0x7f	/* DW_CFA_val_offset_sf rbp, -1 * -8 */
	nop
	.cfi_escape 0x14, 0x06, 0x02	/* DW_CFA_val_offset rbp, 2 * -8 */
	nop
	.cfi_same_value %rbp
	nop
	.cfi_undefined %rbp
	nop
	.cfi_escape 0x2e, 0x10		/* DW_CFA_GNU_args_size 16 */
	nop
	.cfi_escape 0x0f, 0x03, 0x77, 0x08, 0x06	/* DW_CFA_def_cfa_expression */
	nop
	.cfi_restore_state
	nop
	.cfi_def_cfa %rsp, 16
	.cfi_restore %rbp
	nop
	.cfi_escape 0x10, 0x06, 0x02, 0x76, 0x00	/* DW_CFA_expression rbp */
	nop
	.cfi_offset %rbp, -16
	.cfi_rel_offset %rbp, 0
	nop
	.cfi_undefined %rip
	nop
	popq	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	cfi_ops, .-cfi_ops

	.globl	main
	.type	main, @function
main:
	.cfi_startproc
	xorl	%eax, %eax
	ret
	.cfi_endproc
	.size	main, .-main
	.section	.note.GNU-stack,"",@progbits
