/* Terminals, pseudo-terminals and serial lines (src/cfcntl/ioctls/tty.py): TIOCGWINSZ and
   the kernel's termios/termios2 calls here, the pattern requests (TIOCGPTN, TIOCM*,
   TIOCGSERIAL, TIOCGICOUNT, TIOCSWINSZ...) as rows of tty.py.

   Which termios.  The kernel's TCGETS/TCSETS* pass the kernel's struct termios from
   <asm/termbits.h> (36 bytes on x86-64), not glibc's from <termios.h> (60 bytes, with
   the speeds and 32 control characters), and the two headers cannot share a translation
   unit: both define struct termios and the same flag macros.  cffi's main unit includes
   every family's header, so this header takes the kernel's (as ioctl.h does), and no
   file of src/cfcntl/_c/ includes <termios.h>: the stdlib's termios module is the other
   side, for the tests.  The modem line bits (TIOCM_*) come from glibc's <sys/ioctl.h>,
   which agrees with the kernel's and clashes with neither. */
#ifndef CFCNTL_TTY_H
#define CFCNTL_TTY_H

#include "cfcntl.h"

#include <asm/termbits.h>
#include <linux/serial.h>

#ifdef TCGETS2
#define CF_TERMIOS2 1
#else
#define CF_TERMIOS2 0
/* This CPU has no termios2 (powerpc: its struct termios carries the speeds itself).  A
   stand-in with termios2's fields, so that the cdef below compiles; no helper passes it
   to the kernel (each fails with ENOTTY, and Python raises NotImplementedError first). */
struct termios2 {
    tcflag_t c_iflag;
    tcflag_t c_oflag;
    tcflag_t c_cflag;
    tcflag_t c_lflag;
    cc_t c_line;
    cc_t c_cc[NCCS];
    speed_t c_ispeed;
    speed_t c_ospeed;
};
#endif

/* cdef-only:
typedef int... tcflag_t;
typedef int... cc_t;
typedef int... speed_t;
#define NCCS ...
#define CF_TERMIOS2 ...
#define TIOCM_LE ...
#define TIOCM_DTR ...
#define TIOCM_RTS ...
#define TIOCM_ST ...
#define TIOCM_SR ...
#define TIOCM_CTS ...
#define TIOCM_CAR ...
#define TIOCM_RNG ...
#define TIOCM_DSR ...
struct winsize { unsigned short ws_row; unsigned short ws_col;
                 unsigned short ws_xpixel; unsigned short ws_ypixel; ...; };
struct termios { tcflag_t c_iflag; tcflag_t c_oflag; tcflag_t c_cflag; tcflag_t c_lflag;
                 cc_t c_line; cc_t c_cc[...]; ...; };
struct termios2 { tcflag_t c_iflag; tcflag_t c_oflag; tcflag_t c_cflag; tcflag_t c_lflag;
                  cc_t c_line; cc_t c_cc[...]; speed_t c_ispeed; speed_t c_ospeed; ...; };
struct serial_struct { int type; int line; unsigned int port; int irq; int flags;
                       int xmit_fifo_size; int custom_divisor; int baud_base;
                       unsigned short close_delay; signed char io_type; int hub6;
                       unsigned short closing_wait; unsigned short closing_wait2;
                       unsigned short iomem_reg_shift; unsigned int port_high;
                       unsigned long iomap_base; ...; };
struct serial_rs485 { uint32_t flags; uint32_t delay_rts_before_send;
                      uint32_t delay_rts_after_send; ...; };
struct serial_icounter_struct { int cts; int dsr; int rng; int dcd; int rx; int tx;
                                int frame; int overrun; int parity; int brk;
                                int buf_overrun; ...; };
*/

/* cdef: begin */
/* TIOCGWINSZ: the four fields packed into one uint64_t, ws_row in the low 16 bits;
   cfcntl.h's 64-bit alternative of the protocol. */
uint64_t cf_get_winsize(int fd);
/* TIOCMGET: the TIOCM_* bits. */
int64_t cf_tiocmget(int fd);
/* TCGETS into the caller's kernel struct termios. */
int64_t cf_tcgets(int fd, struct termios *answer);
/* TCSETS (when 0), TCSETSW (1: after the output drained) or TCSETSF (2: and the input
   flushed); EINVAL for another when. */
int64_t cf_tcsets(int fd, int when, const struct termios *value);
/* TCGETS2 and TCSETS2/W2/F2, as above with termios2 (ENOTTY without TCGETS2). */
int64_t cf_tcgets2(int fd, struct termios2 *answer);
int64_t cf_tcsets2(int fd, int when, const struct termios2 *value);
/* Any baud rate, in and out: TCGETS2, then CBAUD and CIBAUD set to BOTHER with the rate
   in c_ispeed and c_ospeed, then TCSETS2 (ENOTTY without TCGETS2). */
int64_t cf_set_baud_rate(int fd, speed_t rate);
/* cdef: end */

#endif
