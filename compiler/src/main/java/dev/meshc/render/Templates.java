package dev.meshc.render;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.core.PlainTextOutputFormat;
import freemarker.core.TemplateClassResolver;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * FreeMarker set up for byte-identical output on any machine: root locale, UTC, computer number
 * format, no API or class-creating built-ins, and errors rethrown instead of printed into output.
 */
public final class Templates {
    private final Configuration cfg;

    private Templates(Configuration cfg) {
        this.cfg = cfg;
    }

    /** The templates bundled in the jar (built from the repository's {@code templates/}). */
    public static Templates bundled() {
        Configuration c = base();
        c.setTemplateLoader(bundledLoader());
        return new Templates(c);
    }

    /**
     * Templates from a directory, for {@code compile --templates DIR}: a template found there (same
     * relative path as in {@code templates/}, e.g. {@code nftables/meshc.nft.ftl}) replaces the bundled
     * one; every other artifact keeps its bundled template, so a directory may hold just one file.
     */
    public static Templates fromDirectory(Path dir) throws IOException {
        Configuration c = base();
        c.setTemplateLoader(new freemarker.cache.MultiTemplateLoader(new freemarker.cache.TemplateLoader[] {
            new FileTemplateLoader(dir.toFile()), bundledLoader()}));
        return new Templates(c);
    }

    /** The templates in the jar, built from the repository's {@code templates/}. */
    private static ClassTemplateLoader bundledLoader() {
        return new ClassTemplateLoader(Templates.class, "/meshc/templates");
    }

    private static Configuration base() {
        Configuration c = new Configuration(Configuration.VERSION_2_3_34);
        c.setObjectWrapper(new RecordWrapper());
        c.setDefaultEncoding("UTF-8");
        c.setLocale(Locale.ROOT);
        c.setLocalizedLookup(false);
        // Templates do not change during a compile: never re-check their sources (FreeMarker's default
        // re-checks every 5 s, which at fleet scale means mid-compile, from every rendering thread).
        c.setTemplateUpdateDelayMilliseconds(Long.MAX_VALUE);
        c.setNumberFormat("c");
        c.setBooleanFormat("c");
        c.setTimeZone(TimeZone.getTimeZone("UTC"));
        c.setOutputFormat(PlainTextOutputFormat.INSTANCE);
        c.setWhitespaceStripping(true);
        c.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        c.setLogTemplateExceptions(false);
        c.setWrapUncheckedExceptions(true);
        c.setFallbackOnNullLoopVariable(false);
        c.setAPIBuiltinEnabled(false);
        c.setNewBuiltinClassResolver(TemplateClassResolver.ALLOWS_NOTHING_RESOLVER);
        return c;
    }

    /**
     * Parses the named templates on another thread, so a compile's first renders find them ready
     * (parsing all of them is about a tenth of a second on a cold JVM, otherwise spent after the
     * front end). Missing or broken templates are left for {@link #bytes} to report.
     */
    public void prepareAsync(java.util.Collection<String> names) {
        List<String> copy = List.copyOf(names);
        Thread t = new Thread(() -> {
            for (String n : copy) {
                try {
                    cfg.getTemplate(n);
                } catch (IOException | RuntimeException e) {
                    // cached by FreeMarker and reported by bytes() when the template is used
                }
            }
        }, "meshc-templates");
        t.setDaemon(true);
        t.start();
    }

    /** Renders into a buffer; the caller writes the result only once it is complete. */
    public String render(String name, Map<String, ?> model) {
        return new String(bytes(name, model), StandardCharsets.UTF_8);
    }

    /** The template's output as UTF-8 bytes: what artifacts are made of, without a String in between. */
    public byte[] bytes(String name, Map<String, ?> model) {
        try {
            Template t = cfg.getTemplate(name);
            Utf8Buffer out = new Utf8Buffer(sizeHints.getOrDefault(name, 256));
            t.process(model, out);
            byte[] result = out.toByteArray();
            sizeHints.merge(name, result.length, Math::max);
            return result;
        } catch (IOException e) {
            // A failure FreeMarker cached (from an earlier attempt, perhaps prepareAsync's) comes wrapped in
            // "error loading the template on an earlier attempt": report the original (a syntax error's position).
            throw new UncheckedIOException(e.getCause() instanceof IOException cause ? cause : e);
        } catch (TemplateException e) {
            throw new TemplateFailure(name, e);
        }
    }

    /** The largest output seen per template: buffers start big enough, so a 300 KB ruleset is not grown by doubling. */
    private final ConcurrentMap<String, Integer> sizeHints = new ConcurrentHashMap<>();

    /** A template that failed to render: reported to the user with the template's own position. */
    public static final class TemplateFailure extends RuntimeException {
        public TemplateFailure(String template, TemplateException cause) {
            super("template " + template + " failed: " + cause.getMessageWithoutStackTop().strip().replaceAll("\\s*\\n\\s*", "; "), cause);
        }
    }
}
