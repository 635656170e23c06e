package dev.meshc.render;

import freemarker.template.Configuration;
import freemarker.template.DefaultObjectWrapper;
import freemarker.template.SimpleNumber;
import freemarker.template.SimpleScalar;
import freemarker.template.TemplateHashModel;
import freemarker.template.TemplateModel;
import freemarker.template.TemplateModelException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.RecordComponent;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exposes records to templates as hashes of their components, through method handles looked up
 * once per record class. FreeMarker's generic bean wrapper introspects and reflects on every
 * access, which was most of the rendering time at a thousand VMs (profiled: about 120 MB/s of
 * output on one core with it). Strings and numbers are wrapped directly; the rest goes to the
 * default wrapper. Only record components are visible: no other method can be called from a template.
 */
final class RecordWrapper extends DefaultObjectWrapper {
    private static final Map<Class<?>, Map<String, MethodHandle>> ACCESSORS = new ConcurrentHashMap<>();

    RecordWrapper() {
        super(Configuration.VERSION_2_3_34);
    }

    @Override
    public TemplateModel wrap(Object obj) throws TemplateModelException {
        if (obj instanceof String s) return new SimpleScalar(s);
        if (obj instanceof Integer || obj instanceof Long) return new SimpleNumber((Number) obj);
        if (obj instanceof Record r) return new RecordModel(r, accessors(r.getClass()), this);
        return super.wrap(obj);
    }

    private static Map<String, MethodHandle> accessors(Class<?> type) {
        return ACCESSORS.computeIfAbsent(type, t -> {
            Map<String, MethodHandle> m = new HashMap<>();
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            for (RecordComponent c : t.getRecordComponents()) {
                try {
                    // (Object)Object, called with invokeExact: no per-call type adaptation.
                    m.put(c.getName(), lookup.unreflect(c.getAccessor()).asType(MethodType.genericMethodType(1)));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("record " + t.getName() + " must be public for templates", e);
                }
            }
            return Map.copyOf(m);
        });
    }

    private record RecordModel(Record record, Map<String, MethodHandle> accessors, RecordWrapper wrapper) implements TemplateHashModel {
        @Override
        public TemplateModel get(String key) throws TemplateModelException {
            MethodHandle h = accessors.get(key);
            if (h == null) return null;
            try {
                return wrapper.wrap((Object) h.invokeExact((Object) record));
            } catch (TemplateModelException e) {
                throw e;
            } catch (Throwable e) {
                throw new TemplateModelException("reading " + key + " of " + record.getClass().getSimpleName(), e);
            }
        }

        @Override
        public boolean isEmpty() {
            return accessors.isEmpty();
        }
    }
}
