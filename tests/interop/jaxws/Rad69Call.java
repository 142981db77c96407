import ihe.iti.xds_b._2007.RetrieveDocumentSetRequestType.DocumentRequest;
import ihe.iti.xds_b._2007.RetrieveDocumentSetResponseType;
import ihe.iti.xds_b._2007.RetrieveDocumentSetResponseType.DocumentResponse;
import ihe.rad.xdsi_b._2009.ImagingDocumentSourcePortType;
import ihe.rad.xdsi_b._2009.RetrieveImagingDocumentSetRequestType;
import ihe.rad.xdsi_b._2009.RetrieveImagingDocumentSetRequestType.StudyRequest;
import ihe.rad.xdsi_b._2009.RetrieveImagingDocumentSetRequestType.StudyRequest.SeriesRequest;
import ihe.rad.xdsi_b._2009.RetrieveImagingDocumentSetRequestType.TransferSyntaxUIDList;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import oasis.names.tc.ebxml_regrep.xsd.rs._3.RegistryError;

/**
 * The part of the interop client that only uses names common to the IHE WSDL and ours, so the same code runs
 * with stubs generated from either (tests/interop/harness.py describes the command line and the report).
 */
public final class Rad69Call {
    private Rad69Call() {}

    /** a: wsdl endpoint outdir anonymize repository transferSyntax study/series/sop... */
    public static void run(String[] a, ImagingDocumentSourcePortType port, Consumer<DocumentRequest> anonymize)
            throws Exception {
        Path outdir = Paths.get(a[2]);
        RetrieveImagingDocumentSetRequestType req = new RetrieveImagingDocumentSetRequestType();
        Map<String, StudyRequest> studies = new LinkedHashMap<>();
        Map<String, SeriesRequest> series = new LinkedHashMap<>();
        for (int i = 6; i < a.length; i++) {
            String[] uids = a[i].split("/");
            StudyRequest study = studies.computeIfAbsent(uids[0], uid -> {
                StudyRequest s = new StudyRequest();
                s.setStudyInstanceUID(uid);
                req.getStudyRequest().add(s);
                return s;
            });
            SeriesRequest se = series.computeIfAbsent(uids[0] + "/" + uids[1], key -> {
                SeriesRequest s = new SeriesRequest();
                s.setSeriesInstanceUID(uids[1]);
                study.getSeriesRequest().add(s);
                return s;
            });
            DocumentRequest doc = new DocumentRequest();
            doc.setRepositoryUniqueId(a[4]);
            doc.setDocumentUniqueId(uids[2]);
            if ("yes".equals(a[3])) {
                anonymize.accept(doc);
            }
            se.getDocumentRequest().add(doc);
        }
        TransferSyntaxUIDList ts = new TransferSyntaxUIDList();
        ts.getTransferSyntaxUID().add(a[5]);
        req.setTransferSyntaxUIDList(ts);

        RetrieveDocumentSetResponseType resp = port.retrieveImagingDocumentSet(req);
        System.out.println("status " + resp.getRegistryResponse().getStatus());
        if (resp.getRegistryResponse().getRegistryErrorList() != null) {
            for (RegistryError e : resp.getRegistryResponse().getRegistryErrorList().getRegistryError()) {
                System.out.println("error " + e.getErrorCode() + " " + e.getSeverity() + " " + e.getLocation());
            }
        }
        for (DocumentResponse d : resp.getDocumentResponse()) {
            try (InputStream in = d.getDocument().getInputStream()) {
                Files.copy(in, outdir.resolve(d.getDocumentUniqueId()));
            }
            System.out.println("document " + d.getDocumentUniqueId() + " " + d.getMimeType());
        }
    }
}
