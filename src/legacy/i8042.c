/*
 * The i8042 model: controller commands, the output buffer queue and its two
 * interrupts, the AT keyboard's command replies, the reset line, port 0x92.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "legacy/i8042.h"

/* Status register (read 0x64). */
#define STR_OBF		0x01	/* output buffer full */
#define STR_IBF		0x02	/* input buffer full: never, we are instant */
#define STR_SYS		0x04	/* system flag, mirrors CTR bit 2 */
#define STR_CMD		0x08	/* last write went to 0x64 */
#define STR_KEYLOCK	0x10	/* 1: keyboard not inhibited */
#define STR_AUXDATA	0x20	/* the byte in the output buffer is from aux */
#define STR_TIMEOUT	0x40
#define STR_PARITY	0x80

/* Controller command byte (CTR, RAM byte 0). */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_IGNKEYLOCK	0x08
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* What firmware would leave: keyboard on with IRQ 1, translation, no mouse. */
#define CTR_RESET	(CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT)

/* Output port (commands 0xd0/0xd1). */
#define OUTP_RESET	0x01	/* active low: 0 resets the CPU */
#define OUTP_A20	0x02
#define OUTP_DEFAULT	(OUTP_RESET | OUTP_A20)

#define PORT92_RESET	0x01
#define PORT92_A20	0x02

/* Controller commands. */
#define CMD_READ_RAM	0x20	/* 0x20-0x3f: RAM byte; 0x20 is the CTR */
#define CMD_WRITE_RAM	0x60	/* 0x60-0x7f */
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_INPUT	0xc0
#define CMD_READ_OUTPUT	0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX	0xd4
#define CMD_A20_DISABLE	0xdd
#define CMD_A20_ENABLE	0xdf
#define CMD_READ_TEST	0xe0
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse output bits low */

#define RET_SELF_TEST	0x55
#define RET_ACK		0xfa
#define RET_RESEND	0xfe
#define RET_BAT_OK	0xaa
#define RET_ECHO	0xee

/* Keyboard commands. */
#define KBD_SET_LEDS	0xed
#define KBD_ECHO	0xee
#define KBD_SCANCODE	0xf0
#define KBD_GET_ID	0xf2
#define KBD_SET_RATE	0xf3
#define KBD_ENABLE	0xf4
#define KBD_RESET_DIS	0xf5
#define KBD_RESET_EN	0xf6
#define KBD_RESEND	0xfe
#define KBD_RESET	0xff

#define I8042_QUEUE	16
#define I8042_RAM	32

#define OB_AUX		0x01	/* byte came from the aux side */
#define OB_TIMEOUT	0x02	/* ...and reports a transmit timeout */

struct i8042_byte {
	uint8_t data;
	uint8_t flags;
};

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line kbd_irq;
	struct irq_line aux_irq;
	i8042_reset_fn reset;
	void *reset_opaque;

	uint8_t ram[I8042_RAM];		/* ram[0] is the CTR */
	uint8_t outport;
	uint8_t port92;
	uint8_t status_cmd;		/* STR_CMD or 0 */
	uint8_t pending;		/* controller command awaiting data */
	uint8_t last;			/* the last byte read from 0x60 */

	struct i8042_byte queue[I8042_QUEUE];
	unsigned int head;
	unsigned int count;

	/* The keyboard. */
	uint8_t kbd_pending;		/* command awaiting its parameter */
	uint8_t kbd_last;		/* last byte sent, for 0xfe resend */
	uint8_t kbd_set;		/* scan code set */
	bool kbd_scanning;

	int kbd_level;
	int aux_level;
};

static void i8042_update_irq(struct i8042 *s)
{
	const struct i8042_byte *b = s->count ? &s->queue[s->head] : NULL;
	int kbd = b && !(b->flags & OB_AUX) && (s->ram[0] & CTR_KBDINT);
	int aux = b && (b->flags & OB_AUX) && (s->ram[0] & CTR_AUXINT);

	if (kbd != s->kbd_level) {
		s->kbd_level = kbd;
		irq_set(&s->kbd_irq, kbd);
	}
	if (aux != s->aux_level) {
		s->aux_level = aux;
		irq_set(&s->aux_irq, aux);
	}
}

/* Drop both lines, so the next byte in the queue makes a fresh edge. */
static void i8042_lower_irqs(struct i8042 *s)
{
	if (s->kbd_level) {
		s->kbd_level = 0;
		irq_lower(&s->kbd_irq);
	}
	if (s->aux_level) {
		s->aux_level = 0;
		irq_lower(&s->aux_irq);
	}
}

/* Queue a byte for the guest; a full queue drops it (the device would wait). */
static void i8042_queue(struct i8042 *s, uint8_t data, uint8_t flags)
{
	if (s->count >= I8042_QUEUE)
		return;
	s->queue[(s->head + s->count) % I8042_QUEUE] =
		(struct i8042_byte){ .data = data, .flags = flags };
	s->count++;
}

static void i8042_kbd_send(struct i8042 *s, uint8_t data)
{
	s->kbd_last = data;
	i8042_queue(s, data, 0);
}

static void i8042_kbd_defaults(struct i8042 *s)
{
	s->kbd_pending = 0;
	s->kbd_set = 2;
}

/* A byte written to 0x60 with no controller command pending: the keyboard. */
static void i8042_kbd_write(struct i8042 *s, uint8_t val)
{
	uint8_t cmd = s->kbd_pending;

	if (cmd) {
		s->kbd_pending = 0;
		if (cmd == KBD_SCANCODE && val == 0) {
			i8042_kbd_send(s, RET_ACK);
			i8042_kbd_send(s, s->kbd_set);
			return;
		}
		if (cmd == KBD_SCANCODE && val <= 3)
			s->kbd_set = val;
		/* LED and typematic values are taken and forgotten. */
		i8042_kbd_send(s, RET_ACK);
		return;
	}

	switch (val) {
	case KBD_SET_LEDS:
	case KBD_SCANCODE:
	case KBD_SET_RATE:
		s->kbd_pending = val;
		i8042_kbd_send(s, RET_ACK);
		break;
	case KBD_ECHO:
		i8042_kbd_send(s, RET_ECHO);
		break;
	case KBD_GET_ID:
		i8042_kbd_send(s, RET_ACK);
		i8042_kbd_send(s, 0xab);	/* MF2 keyboard */
		i8042_kbd_send(s, 0x83);
		break;
	case KBD_ENABLE:
		s->kbd_scanning = true;
		i8042_kbd_send(s, RET_ACK);
		break;
	case KBD_RESET_DIS:
		i8042_kbd_defaults(s);
		s->kbd_scanning = false;
		i8042_kbd_send(s, RET_ACK);
		break;
	case KBD_RESET_EN:
		i8042_kbd_defaults(s);
		s->kbd_scanning = true;
		i8042_kbd_send(s, RET_ACK);
		break;
	case KBD_RESEND:
		i8042_queue(s, s->kbd_last, 0);
		break;
	case KBD_RESET:
		i8042_kbd_defaults(s);
		s->kbd_scanning = true;
		i8042_kbd_send(s, RET_ACK);
		i8042_kbd_send(s, RET_BAT_OK);
		break;
	default:
		if (val >= 0xf7)	/* scan code set 3 key types */
			i8042_kbd_send(s, RET_ACK);
		else
			i8042_kbd_send(s, RET_RESEND);
		break;
	}
}

/* Returns true when the guest asked for a CPU reset. */
static bool i8042_write_cmd(struct i8042 *s, uint8_t cmd)
{
	s->status_cmd = STR_CMD;
	s->pending = 0;

	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + I8042_RAM) {
		i8042_queue(s, s->ram[cmd - CMD_READ_RAM], 0);
		return false;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM) {
		s->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE) {
		/* Bits 0-3 low are pulsed; bit 0 is the CPU reset line. */
		return !(cmd & OUTP_RESET);
	}

	switch (cmd) {
	case CMD_AUX_DISABLE:
		s->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		s->ram[0] &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_queue(s, 0x00, 0);	/* interface OK */
		break;
	case CMD_SELF_TEST:
		s->ram[0] |= CTR_SYS;
		i8042_queue(s, RET_SELF_TEST, 0);
		break;
	case CMD_KBD_DISABLE:
		s->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		s->ram[0] &= ~CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		i8042_queue(s, 0x80, 0);	/* keyboard not inhibited */
		break;
	case CMD_READ_OUTPUT:
		i8042_queue(s, s->outport, 0);
		break;
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		s->pending = cmd;
		break;
	case CMD_A20_DISABLE:
		s->outport &= ~OUTP_A20;
		break;
	case CMD_A20_ENABLE:
		s->outport |= OUTP_A20;
		break;
	case CMD_READ_TEST:
		i8042_queue(s, 0x00, 0);
		break;
	default:
		/* Unknown or vendor commands: ignored, as many controllers do. */
		break;
	}
	return false;
}

/* Returns true when the guest asked for a CPU reset. */
static bool i8042_write_data(struct i8042 *s, uint8_t val)
{
	uint8_t cmd = s->pending;

	s->status_cmd = 0;
	s->pending = 0;

	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + I8042_RAM) {
		s->ram[cmd - CMD_WRITE_RAM] = val;
		return false;
	}
	switch (cmd) {
	case CMD_WRITE_OUTPUT:
		s->outport = val | OUTP_RESET;
		return !(val & OUTP_RESET);
	case CMD_WRITE_KBD_OBUF:
		i8042_queue(s, val, 0);
		return false;
	case CMD_WRITE_AUX_OBUF:
		i8042_queue(s, val, OB_AUX);
		return false;
	case CMD_WRITE_AUX:
		/* No mouse: the transfer times out, as on a PC without one. */
		i8042_queue(s, RET_RESEND, OB_AUX | OB_TIMEOUT);
		return false;
	}
	i8042_kbd_write(s, val);
	return false;
}

static uint8_t i8042_status(const struct i8042 *s)
{
	uint8_t v = s->status_cmd | STR_KEYLOCK;

	if (s->ram[0] & CTR_SYS)
		v |= STR_SYS;
	if (s->count) {
		const struct i8042_byte *b = &s->queue[s->head];

		v |= STR_OBF;
		if (b->flags & OB_AUX)
			v |= STR_AUXDATA;
		if (b->flags & OB_TIMEOUT)
			v |= STR_TIMEOUT;
	}
	return v;
}

static uint8_t i8042_read_data(struct i8042 *s)
{
	if (s->count) {
		s->last = s->queue[s->head].data;
		s->head = (s->head + 1) % I8042_QUEUE;
		s->count--;
		i8042_lower_irqs(s);
	}
	return s->last;
}

/*
 * The three ranges share these handlers; opaque is the controller and the
 * port is recovered from which ops table was used. Only byte lane 0 is the
 * register: wider accesses see all ones above it and have their upper
 * bytes dropped (0x61 and 0x65 belong to nobody here).
 */
enum i8042_port { P_DATA, P_CMD, P_92 };

static void i8042_finish(struct i8042 *s, bool reset)
{
	i8042_reset_fn fn = s->reset;
	void *opaque = s->reset_opaque;

	i8042_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (reset && fn)
		fn(opaque);
}

static uint64_t i8042_read(struct i8042 *s, enum i8042_port port,
			   uint64_t offset, unsigned int len)
{
	uint64_t ones = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	uint8_t v;

	if (offset != 0)
		return ones;
	pthread_mutex_lock(&s->lock);
	switch (port) {
	case P_DATA:
		v = i8042_read_data(s);
		break;
	case P_CMD:
		v = i8042_status(s);
		break;
	default:
		v = s->port92;
		break;
	}
	i8042_finish(s, false);
	return (ones & ~0xffULL) | v;
}

static void i8042_write(struct i8042 *s, enum i8042_port port,
			uint64_t offset, uint64_t value)
{
	uint8_t v = value;
	bool reset = false;

	if (offset != 0)
		return;
	pthread_mutex_lock(&s->lock);
	switch (port) {
	case P_DATA:
		reset = i8042_write_data(s, v);
		break;
	case P_CMD:
		reset = i8042_write_cmd(s, v);
		break;
	default:
		/* Bit 0 is a write-1 pulse and reads back as 0. */
		reset = v & PORT92_RESET;
		s->port92 = v & ~PORT92_RESET;
		break;
	}
	i8042_finish(s, reset);
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned int len)
{
	return i8042_read(opaque, P_DATA, offset, len);
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value,
			     unsigned int len)
{
	i8042_write(opaque, P_DATA, offset, value);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t offset, unsigned int len)
{
	return i8042_read(opaque, P_CMD, offset, len);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned int len)
{
	i8042_write(opaque, P_CMD, offset, value);
}

static uint64_t i8042_p92_read(void *opaque, uint64_t offset, unsigned int len)
{
	return i8042_read(opaque, P_92, offset, len);
}

static void i8042_p92_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned int len)
{
	i8042_write(opaque, P_92, offset, value);
}

static const struct io_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct io_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

static const struct io_ops i8042_p92_ops = {
	.read = i8042_p92_read,
	.write = i8042_p92_write,
};

static void i8042_reset_locked(struct i8042 *s)
{
	memset(s->ram, 0, sizeof(s->ram));
	s->ram[0] = CTR_RESET;
	s->outport = OUTP_DEFAULT;
	s->port92 = PORT92_A20;
	s->status_cmd = 0;
	s->pending = 0;
	s->last = 0;
	s->head = 0;
	s->count = 0;
	i8042_kbd_defaults(s);
	s->kbd_last = 0;
	s->kbd_scanning = true;
}

struct i8042 *i8042_create(const struct irq_line *kbd_irq,
			   const struct irq_line *aux_irq,
			   i8042_reset_fn reset, void *opaque)
{
	struct i8042 *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	if (kbd_irq)
		s->kbd_irq = *kbd_irq;
	if (aux_irq)
		s->aux_irq = *aux_irq;
	s->reset = reset;
	s->reset_opaque = opaque;
	i8042_reset_locked(s);
	return s;
}

void i8042_destroy(struct i8042 *kbc)
{
	if (!kbc)
		return;
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}

int i8042_register(struct i8042 *kbc, struct io_bus *bus)
{
	int ret;

	ret = io_bus_register(bus, IO_SPACE_PIO, I8042_DATA_PORT, 1,
			      &i8042_data_ops, kbc, "i8042 data");
	if (ret)
		return ret;
	ret = io_bus_register(bus, IO_SPACE_PIO, I8042_CMD_PORT, 1,
			      &i8042_cmd_ops, kbc, "i8042 command");
	if (ret)
		goto err_data;
	ret = io_bus_register(bus, IO_SPACE_PIO, I8042_PORT_92, 1,
			      &i8042_p92_ops, kbc, "port 92");
	if (ret)
		goto err_cmd;
	return 0;

err_cmd:
	io_bus_unregister(bus, IO_SPACE_PIO, I8042_CMD_PORT);
err_data:
	io_bus_unregister(bus, IO_SPACE_PIO, I8042_DATA_PORT);
	return ret;
}

void i8042_unregister(struct i8042 *kbc, struct io_bus *bus)
{
	io_bus_unregister(bus, IO_SPACE_PIO, I8042_PORT_92);
	io_bus_unregister(bus, IO_SPACE_PIO, I8042_CMD_PORT);
	io_bus_unregister(bus, IO_SPACE_PIO, I8042_DATA_PORT);
}

void i8042_reset(struct i8042 *kbc)
{
	pthread_mutex_lock(&kbc->lock);
	i8042_reset_locked(kbc);
	i8042_finish(kbc, false);
}

bool i8042_a20(struct i8042 *kbc)
{
	bool on;

	pthread_mutex_lock(&kbc->lock);
	on = (kbc->outport & OUTP_A20) || (kbc->port92 & PORT92_A20);
	pthread_mutex_unlock(&kbc->lock);
	return on;
}
