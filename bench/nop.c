/* nop: the cheapest job a process pool can run. A static program with no
 * C library that exits 0 at once: its start costs only what the kernel's
 * exec costs, where a dynamically linked true(1) spends most of its time
 * in the dynamic loader (about 5x as long here). A pool's per-job overhead
 * is then most of what is measured.
 * Built with: cc -static -nostdlib -o nop nop.c (x86-64 and AArch64). */
#if defined(__x86_64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov $60, %eax\n"	/* exit */
	"	xor %edi, %edi\n"
	"	syscall\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov x8, #93\n"		/* exit */
	"	mov x0, #0\n"
	"	svc #0\n");
#else
/* cppcheck-suppress preprocessorErrorDirective */
#error "nop: no exit sequence for this architecture"
#endif
