import dicom.wado.ws._2011.RenderedDocumentRequestType;
import dicom.wado.ws._2011.RenderedDocumentResponseType;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetRequestType;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetRequestType.StudyRequest;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetRequestType.StudyRequest.SeriesRequest;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetResponseType;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * RetrieveRenderedImagingDocumentSet (PS3.18 §6.4.2) with stubs from the served WSDL.
 * a: wsdl endpoint outdir anonymize repository rows columns contentType study/series/sop...
 * (tests/interop/harness.py, RenderedPlan); each image is written as OUTDIR/SourceDocumentUniqueId.
 */
public final class RenderedClient {
    public static void main(String[] a) throws Exception {
        RetrieveRenderedImagingDocumentSetRequestType req = new RetrieveRenderedImagingDocumentSetRequestType();
        for (Map.Entry<String, Map<String, List<String>>> st : Documents.group(a, 8).entrySet()) {
            StudyRequest study = new StudyRequest();
            study.setStudyInstanceUID(st.getKey());
            for (Map.Entry<String, List<String>> se : st.getValue().entrySet()) {
                SeriesRequest series = new SeriesRequest();
                series.setSeriesInstanceUID(se.getKey());
                for (String sop : se.getValue()) {
                    RenderedDocumentRequestType doc = new RenderedDocumentRequestType();
                    doc.setRepositoryUniqueId(a[4]);
                    doc.setDocumentUniqueId(sop);
                    doc.setRows(a[5]);
                    doc.setColumns(a[6]);
                    if ("yes".equals(a[3])) {
                        doc.setAnonymize("yes");
                    }
                    RenderedDocumentRequestType.ContentTypeList types = new RenderedDocumentRequestType.ContentTypeList();
                    types.getContentType().add(a[7]);
                    doc.setContentTypeList(types);
                    series.getRenderedDocumentRequest().add(doc);
                }
                study.getSeriesRequest().add(series);
            }
            req.getStudyRequest().add(study);
        }
        RetrieveRenderedImagingDocumentSetResponseType resp = OurPort.open(a[0]).retrieveRenderedImagingDocumentSet(req);
        OurPort.report(resp.getRegistryResponse());
        for (RenderedDocumentResponseType d : resp.getRenderedDocumentResponse()) {
            try (InputStream in = d.getDocument().getInputStream()) {
                Files.copy(in, Paths.get(a[2]).resolve(d.getSourceDocumentUniqueId()));
            }
            System.out.println("rendered " + d.getSourceDocumentUniqueId() + " " + d.getMimeType() + " " + d.getRows()
                + " " + d.getColumns());
        }
    }
}
