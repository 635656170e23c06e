package dev.meshc.load;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.snakeyaml.engine.v2.events.Event;

/**
 * snakeyaml-engine's scanner and parser on a second thread, handing their events over in batches, so that
 * parsing and building the tree overlap on two cores (about half of reading a large inventory each).
 *
 * <p>The consumer sees exactly the sequential stream: the same events in the same order, and a parser
 * exception (a syntax error, say) thrown from {@link #hasNext()} where iterating the parser directly would
 * have thrown it, after every event before it. The producer runs at most {@link #DEPTH} batches ahead, so a
 * reader that stops early (a limit exceeded) holds a bounded number of events; {@link #close()} stops it.
 */
final class EventPipe implements Iterator<Event>, AutoCloseable {
    private static final int BATCH = 512;
    private static final int DEPTH = 32;
    private static final Object END = new Object();

    private record Batch(Event[] events, int size) {
    }

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(DEPTH);
    private final Thread producer;
    private Batch current = new Batch(new Event[0], 0);
    private int next;
    private boolean ended;
    private volatile Throwable failure;

    EventPipe(Iterable<Event> events) {
        producer = new Thread(() -> produce(events), "meshc-yaml-parser");
        producer.setDaemon(true);
        producer.start();
    }

    private void produce(Iterable<Event> events) {
        Event[] batch = new Event[BATCH];
        int n = 0;
        try {
            try {
                for (Event e : events) {
                    batch[n++] = e;
                    if (n == BATCH) {
                        queue.put(new Batch(batch, n));
                        batch = new Event[BATCH];
                        n = 0;
                    }
                }
            } catch (RuntimeException | Error thrown) {
                failure = thrown; // seen by the consumer even if handing it over below fails too (out of memory)
                queue.put(new Batch(batch, n)); // the events before it come first, as a direct iteration would
                queue.put(thrown);
                return;
            }
            queue.put(new Batch(batch, n));
            queue.put(END);
        } catch (InterruptedException stopped) {
            // close(): the reader needs no more events
        }
    }

    @Override
    public boolean hasNext() {
        while (next == current.size()) {
            if (ended) return false;
            Object o = take();
            if (o == END) {
                ended = true;
                return false;
            }
            if (o instanceof Throwable t) {
                ended = true;
                if (t instanceof RuntimeException r) throw r;
                throw (Error) t;
            }
            current = (Batch) o;
            next = 0;
        }
        return true;
    }

    /** The next batch or marker; if the producer died without handing one over, what killed it. */
    private Object take() {
        try {
            while (true) {
                Object o = queue.poll(100, TimeUnit.MILLISECONDS);
                if (o != null) return o;
                if (!producer.isAlive() && queue.isEmpty()) {
                    return failure != null ? failure : new IllegalStateException("the YAML parser thread stopped");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading YAML", e);
        }
    }

    @Override
    public Event next() {
        if (!hasNext()) throw new NoSuchElementException();
        return current.events()[next++];
    }

    @Override
    public void close() {
        producer.interrupt();
    }
}
