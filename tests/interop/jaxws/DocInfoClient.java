import dicom.wado.ws._2011.DocumentInformationRequestType;
import dicom.wado.ws._2011.DocumentInformationResponseType;
import dicom.wado.ws._2011.RetrieveImagingDocumentSetInformationRequestType;
import dicom.wado.ws._2011.RetrieveImagingDocumentSetInformationRequestType.StudyRequest;
import dicom.wado.ws._2011.RetrieveImagingDocumentSetInformationRequestType.StudyRequest.SeriesRequest;
import dicom.wado.ws._2011.RetrieveImagingDocumentSetInformationResponseType;
import dicom.wado.ws._2011.XPathResponseType;
import dicom.wado.ws._2011.XPathResultItemType;
import java.util.List;
import java.util.Map;

/**
 * RetrieveImagingDocumentSetInformation (PS3.18 §6.4.3) with stubs from the served WSDL.
 * a: wsdl endpoint outdir anonymize repository N xpath1..xpathN study/series/sop...
 * Each answer item is reported as "xpath DOCUID K text VALUE" or "xpath DOCUID K element LOCALNAME TAG"
 * (K: the XPath's 1-based position), the element being the DOM node JAXB hands over for the wildcard.
 */
public final class DocInfoClient {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[5]);
        RetrieveImagingDocumentSetInformationRequestType req = new RetrieveImagingDocumentSetInformationRequestType();
        for (Map.Entry<String, Map<String, List<String>>> st : Documents.group(a, 6 + n).entrySet()) {
            StudyRequest study = new StudyRequest();
            study.setStudyInstanceUID(st.getKey());
            for (Map.Entry<String, List<String>> se : st.getValue().entrySet()) {
                SeriesRequest series = new SeriesRequest();
                series.setSeriesInstanceUID(se.getKey());
                for (String sop : se.getValue()) {
                    DocumentInformationRequestType doc = new DocumentInformationRequestType();
                    doc.setRepositoryUniqueId(a[4]);
                    doc.setDocumentUniqueId(sop);
                    series.getDocumentRequest().add(doc);
                }
                study.getSeriesRequest().add(series);
            }
            req.getStudyRequest().add(study);
        }
        RetrieveImagingDocumentSetInformationRequestType.XPathList xpaths =
            new RetrieveImagingDocumentSetInformationRequestType.XPathList();
        for (int i = 0; i < n; i++) {
            xpaths.getXPath().add(a[6 + i]);
        }
        req.setXPathList(xpaths);
        if ("yes".equals(a[3])) {
            req.setAnonymize("yes");
        }
        RetrieveImagingDocumentSetInformationResponseType resp =
            OurPort.open(a[0]).retrieveImagingDocumentSetInformation(req);
        OurPort.report(resp.getRegistryResponse());
        for (DocumentInformationResponseType d : resp.getDocumentInformationResponse()) {
            System.out.println("document " + d.getDocumentUniqueId() + " -");
            int k = 0;
            for (XPathResponseType x : d.getXPathResponseList().getXPathResponse()) {
                k++;
                for (XPathResultItemType item : x.getItem()) {
                    String what = item.getAny() != null
                        ? "element " + item.getAny().getLocalName() + " " + item.getAny().getAttribute("tag")
                        : "text " + item.getText();
                    System.out.println("xpath " + d.getDocumentUniqueId() + " " + k + " " + what);
                }
            }
        }
    }
}
