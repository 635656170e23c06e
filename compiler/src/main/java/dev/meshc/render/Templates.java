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
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;

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
        c.setTemplateLoader(new ClassTemplateLoader(Templates.class, "/meshc/templates"));
        return new Templates(c);
    }

    /** Templates from a directory, for {@code compile --templates DIR}. */
    public static Templates fromDirectory(Path dir) throws IOException {
        Configuration c = base();
        c.setTemplateLoader(new FileTemplateLoader(dir.toFile()));
        return new Templates(c);
    }

    private static Configuration base() {
        Configuration c = new Configuration(Configuration.VERSION_2_3_34);
        c.setObjectWrapper(new RecordWrapper());
        c.setDefaultEncoding("UTF-8");
        c.setLocale(Locale.ROOT);
        c.setLocalizedLookup(false);
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

    /** Renders into a buffer; the caller writes the result only once it is complete. */
    public String render(String name, Map<String, ?> model) {
        try {
            Template t = cfg.getTemplate(name);
            TextBuffer out = new TextBuffer();
            t.process(model, out);
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TemplateException e) {
            throw new TemplateFailure(name, e);
        }
    }

    /** {@code java.io.StringWriter} synchronises every write (it wraps a StringBuffer); templates write tiny pieces. */
    private static final class TextBuffer extends java.io.Writer {
        private final StringBuilder sb = new StringBuilder(8192);

        @Override
        public void write(char[] cbuf, int off, int len) {
            sb.append(cbuf, off, len);
        }

        @Override
        public void write(String str) {
            sb.append(str);
        }

        @Override
        public void write(String str, int off, int len) {
            sb.append(str, off, off + len);
        }

        @Override
        public void write(int c) {
            sb.append((char) c);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return sb.toString();
        }
    }

    /** A template that failed to render: reported to the user with the template's own position. */
    public static final class TemplateFailure extends RuntimeException {
        public TemplateFailure(String template, TemplateException cause) {
            super("template " + template + " failed: " + cause.getMessageWithoutStackTop().strip().replaceAll("\\s*\\n\\s*", "; "), cause);
        }
    }
}
