package dev.meshc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.load.InventorySchema;
import dev.meshc.plan.Frontend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** Editors get completion and hover from the schema: every property documented, every example wired to it and valid. */
class SchemaDocumentationTest {

    @Test
    void everyPropertyHasADescriptionAndExamples() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(InventorySchema.text());
        List<String> missing = new ArrayList<>();
        walk(schema, "", missing);
        assertEquals(List.of(), missing);
    }

    static void walk(JsonNode node, String path, List<String> missing) {
        JsonNode props = node.get("properties");
        if (props != null) {
            for (var e : props.properties()) {
                JsonNode p = e.getValue();
                String where = path + "/" + e.getKey();
                if (!p.has("description")) missing.add(where + ": description");
                if (!p.has("examples") && !p.has("$ref")) missing.add(where + ": examples");
                walk(p, where, missing);
            }
        }
        JsonNode defs = node.get("$defs");
        if (defs != null) for (var e : defs.properties()) walk(e.getValue(), "#/$defs/" + e.getKey(), missing);
        JsonNode ap = node.get("additionalProperties");
        if (ap != null && ap.isObject()) walk(ap, path + "/*", missing);
    }

    @Test
    void everyExamplePointsEditorsAtTheSchemaAndValidates() {
        for (String example : TestSupport.examples()) {
            String text = TestSupport.read(TestSupport.example(example));
            assertTrue(text.startsWith("# yaml-language-server: $schema=../../schemas/inventory.schema.json\n"), example);
            Frontend.Result r = TestSupport.frontend(example, text, null);
            assertTrue(r.ok(), () -> example + ": " + r.diagnostics());
        }
    }
}
