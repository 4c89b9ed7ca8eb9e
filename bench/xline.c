/* xline: the cheapest program that writes one line: "x\n" to stdout,
 * then exits 0. Static, with no C library, like nop.c, so that what a
 * woken waiter execs costs only the kernel's exec.
 * Built with: cc -static -nostdlib -o xline xline.c (x86-64 and AArch64). */
#if defined(__x86_64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov $1, %eax\n"		/* write */
	"	mov $1, %edi\n"
	"	lea msg(%rip), %rsi\n"
	"	mov $2, %edx\n"
	"	syscall\n"
	"	mov $60, %eax\n"	/* exit */
	"	xor %edi, %edi\n"
	"	syscall\n"
	"msg: .ascii \"x\\n\"\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov x8, #64\n"		/* write */
	"	mov x0, #1\n"
	"	adr x1, msg\n"
	"	mov x2, #2\n"
	"	svc #0\n"
	"	mov x8, #93\n"		/* exit */
	"	mov x0, #0\n"
	"	svc #0\n"
	"msg: .ascii \"x\\n\"\n");
#else
/* cppcheck-suppress preprocessorErrorDirective */
#error "xline: no write sequence for this architecture"
#endif
