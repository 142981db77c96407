import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The "STUDY/SERIES/SOP" arguments of every interop client, grouped as the StudyRequest > SeriesRequest >
 * document tree all three WADO-WS requests share (request order kept), and the RegistryResponse lines of the
 * report (tests/interop/harness.py). Only JDK types, so clients built from any WSDL can use it.
 */
public final class Documents {
    private Documents() {}

    /** study UID -> series UID -> SOP Instance UIDs, from a[from..]. */
    public static Map<String, Map<String, List<String>>> group(String[] a, int from) {
        Map<String, Map<String, List<String>>> studies = new LinkedHashMap<>();
        for (int i = from; i < a.length; i++) {
            String[] uids = a[i].split("/");
            studies.computeIfAbsent(uids[0], k -> new LinkedHashMap<>())
                .computeIfAbsent(uids[1], k -> new ArrayList<>()).add(uids[2]);
        }
        return studies;
    }

    /** "status ..." and one "error ..." line per RegistryError (values as the toolkit surfaced them). */
    public static void report(String status, List<String[]> errors) {
        System.out.println("status " + status);
        for (String[] e : errors) {
            System.out.println("error " + e[0] + " " + e[1] + " " + e[2]);
        }
    }
}
