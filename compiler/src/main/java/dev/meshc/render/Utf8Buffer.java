package dev.meshc.render;

import java.io.Writer;
import java.util.Arrays;

/**
 * A {@link Writer} that encodes straight into a growable UTF-8 byte array. Rendering a fleet
 * produces about a gigabyte of text at 1,000 VMs; going through a {@code StringBuilder}, a
 * {@code String} and {@code getBytes} copied it three times and was the largest allocation in the
 * profile. {@code CharsetEncoder} would need a {@code CharBuffer} per write and has no fast path for
 * {@code String} input, so the few lines of encoding are here. Output equals
 * {@code String.getBytes(UTF_8)} of everything written, including surrogate pairs split across
 * writes and lone surrogates (encoded as {@code '?'}, as the JDK does).
 */
final class Utf8Buffer extends Writer {
    private byte[] buf;
    private int n;
    private char pendingHigh; // a high surrogate whose low half may come with the next write

    Utf8Buffer(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    @Override
    public void write(String s) {
        write(s, 0, s.length());
    }

    @Override
    public void write(String s, int off, int len) {
        ensure(len);
        int end = off + len, i = off;
        if (pendingHigh == 0) { // the common case: ASCII, one byte per char
            byte[] b = buf;
            int k = n;
            while (i < end) {
                char c = s.charAt(i);
                if (c >= 0x80) break;
                b[k++] = (byte) c;
                i++;
            }
            n = k;
        }
        for (; i < end; i++) put(s.charAt(i));
    }

    @Override
    public void write(char[] cbuf, int off, int len) {
        ensure(len);
        int end = off + len, i = off;
        if (pendingHigh == 0) {
            byte[] b = buf;
            int k = n;
            while (i < end) {
                char c = cbuf[i];
                if (c >= 0x80) break;
                b[k++] = (byte) c;
                i++;
            }
            n = k;
        }
        for (; i < end; i++) put(cbuf[i]);
    }

    @Override
    public void write(int c) {
        put((char) c);
    }

    private void put(char c) {
        if (pendingHigh != 0) {
            char high = pendingHigh;
            pendingHigh = 0;
            if (Character.isLowSurrogate(c)) {
                int cp = Character.toCodePoint(high, c);
                ensure(4);
                buf[n++] = (byte) (0xF0 | (cp >> 18));
                buf[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[n++] = (byte) (0x80 | (cp & 0x3F));
                return;
            }
            ensure(1);
            buf[n++] = '?'; // a lone high surrogate
        }
        ensure(3);
        if (c < 0x80) {
            buf[n++] = (byte) c;
        } else if (c < 0x800) {
            buf[n++] = (byte) (0xC0 | (c >> 6));
            buf[n++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isHighSurrogate(c)) {
            pendingHigh = c;
        } else if (Character.isLowSurrogate(c)) {
            buf[n++] = '?'; // a lone low surrogate
        } else {
            buf[n++] = (byte) (0xE0 | (c >> 12));
            buf[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
            buf[n++] = (byte) (0x80 | (c & 0x3F));
        }
    }

    private void ensure(int more) {
        if (n + more > buf.length) grow(more);
    }

    /** Out of line, so the hot path above stays a compare. */
    private void grow(int more) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    /** Everything written, as UTF-8 (a trailing lone high surrogate becomes {@code '?'}). */
    byte[] toByteArray() {
        if (pendingHigh != 0) {
            pendingHigh = 0;
            ensure(1);
            buf[n++] = '?';
        }
        return n == buf.length ? buf : Arrays.copyOf(buf, n);
    }
}
