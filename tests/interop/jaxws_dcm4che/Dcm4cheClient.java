import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetRequestType;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetRequestType.StudyRequest.SeriesRequest.RenderedDocumentRequest;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetResponseType;
import dicom.wado.ws._2011.RetrieveRenderedImagingDocumentSetResponseType.RenderedDocumentResponse;
import ihe.iti.xds_b._2007.RetrieveDocumentSetRequestType.DocumentRequest;
import ihe.iti.xds_b._2007.RetrieveDocumentSetResponseType;
import ihe.iti.xds_b._2007.RetrieveDocumentSetResponseType.DocumentResponse;
import ihe.rad.xdsi_b._2009.ImagingDocumentSource;
import ihe.rad.xdsi_b._2009.ImagingDocumentSourcePortType;
import ihe.rad.xdsi_b._2009.RetrieveImagingDocumentSetRequestType;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.activation.DataHandler;
import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.AddressingFeature;
import javax.xml.ws.soap.MTOMFeature;
import oasis.names.tc.ebxml_regrep.xsd.rs._3.RegistryError;
import oasis.names.tc.ebxml_regrep.xsd.rs._3.RegistryResponseType;

/**
 * A consumer built on dcm4che's WSDL variant (the WSDL dcm4chee-arc's WADO-WS clients are generated from), kept
 * unchanged in the stubs' classpath; only the endpoint address is set. -Dop=rad69 sends RetrieveImagingDocumentSet
 * with the RAD-69 command line (no Anonymize: dcm4che's XDS.b schema has none), -Dop=rendered
 * RetrieveRenderedImagingDocumentSet with the rendered one (tests/interop/harness.py and plans.py).
 */
public final class Dcm4cheClient {
    public static void main(String[] a) throws Exception {
        URL wsdl = Dcm4cheClient.class.getResource("/wsdl/XDS-I.b_ImagingDocumentSource.wsdl");
        ImagingDocumentSource service = new ImagingDocumentSource(
            wsdl, new QName("urn:ihe:rad:xdsi-b:2009", "ImagingDocumentSource"));
        ImagingDocumentSourcePortType port = service.getImagingDocumentSourcePortSoap12(
            new MTOMFeature(true), new AddressingFeature(true, true));
        ((BindingProvider) port).getRequestContext().put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, a[1]);
        if ("rendered".equals(System.getProperty("op"))) {
            rendered(a, port);
        } else {
            rad69(a, port);
        }
    }

    private static void rad69(String[] a, ImagingDocumentSourcePortType port) throws Exception {
        if ("yes".equals(a[3])) {
            throw new IllegalArgumentException("dcm4che's XDS.b schema has no Anonymize element");
        }
        RetrieveImagingDocumentSetRequestType req = new RetrieveImagingDocumentSetRequestType();
        for (Map.Entry<String, Map<String, List<String>>> st : Documents.group(a, 6).entrySet()) {
            RetrieveImagingDocumentSetRequestType.StudyRequest study = new RetrieveImagingDocumentSetRequestType.StudyRequest();
            study.setStudyInstanceUID(st.getKey());
            for (Map.Entry<String, List<String>> se : st.getValue().entrySet()) {
                RetrieveImagingDocumentSetRequestType.StudyRequest.SeriesRequest series =
                    new RetrieveImagingDocumentSetRequestType.StudyRequest.SeriesRequest();
                series.setSeriesInstanceUID(se.getKey());
                for (String sop : se.getValue()) {
                    DocumentRequest doc = new DocumentRequest();
                    doc.setRepositoryUniqueId(a[4]);
                    doc.setDocumentUniqueId(sop);
                    series.getDocumentRequest().add(doc);
                }
                study.getSeriesRequest().add(series);
            }
            req.getStudyRequest().add(study);
        }
        RetrieveImagingDocumentSetRequestType.TransferSyntaxUIDList ts = new RetrieveImagingDocumentSetRequestType.TransferSyntaxUIDList();
        ts.getTransferSyntaxUID().add(a[5]);
        req.setTransferSyntaxUIDList(ts);
        RetrieveDocumentSetResponseType resp = port.imagingDocumentSourceRetrieveImagingDocumentSet(req);
        report(resp.getRegistryResponse());
        for (DocumentResponse d : resp.getDocumentResponse()) {
            save(d.getDocument(), Paths.get(a[2]).resolve(d.getDocumentUniqueId()));
            System.out.println("document " + d.getDocumentUniqueId() + " " + d.getMimeType());
        }
    }

    private static void rendered(String[] a, ImagingDocumentSourcePortType port) throws Exception {
        RetrieveRenderedImagingDocumentSetRequestType req = new RetrieveRenderedImagingDocumentSetRequestType();
        for (Map.Entry<String, Map<String, List<String>>> st : Documents.group(a, 8).entrySet()) {
            RetrieveRenderedImagingDocumentSetRequestType.StudyRequest study =
                new RetrieveRenderedImagingDocumentSetRequestType.StudyRequest();
            study.setStudyInstanceUID(st.getKey());
            for (Map.Entry<String, List<String>> se : st.getValue().entrySet()) {
                RetrieveRenderedImagingDocumentSetRequestType.StudyRequest.SeriesRequest series =
                    new RetrieveRenderedImagingDocumentSetRequestType.StudyRequest.SeriesRequest();
                series.setSeriesInstanceUID(se.getKey());
                for (String sop : se.getValue()) {
                    RenderedDocumentRequest doc = new RenderedDocumentRequest();
                    doc.setRepositoryUniqueId(a[4]);
                    doc.setDocumentUniqueId(sop);
                    doc.setRows(a[5]);
                    doc.setColumns(a[6]);
                    if ("yes".equals(a[3])) {
                        doc.setAnonymize("yes");
                    }
                    RenderedDocumentRequest.ContentTypeList types = new RenderedDocumentRequest.ContentTypeList();
                    types.getContentType().add(a[7]);
                    doc.setContentTypeList(types);
                    series.getRenderedDocumentRequest().add(doc);
                }
                study.getSeriesRequest().add(series);
            }
            req.getStudyRequest().add(study);
        }
        RetrieveRenderedImagingDocumentSetResponseType resp = port.imagingDocumentSourceRetrieveRenderedImagingDocumentSet(req);
        report(resp.getRegistryResponse());
        for (RenderedDocumentResponse d : resp.getRenderedDocumentResponse()) {
            save(d.getDocument(), Paths.get(a[2]).resolve(d.getSourceDocumentUniqueId()));
            System.out.println("rendered " + d.getSourceDocumentUniqueId() + " " + d.getMimeType() + " " + d.getRows()
                + " " + d.getColumns());
        }
    }

    /** The RegistryResponse as JAXB bound it; "status -" when it bound none (the element was not the one expected). */
    private static void report(RegistryResponseType registry) {
        List<String[]> errors = new ArrayList<>();
        if (registry != null && registry.getRegistryErrorList() != null) {
            for (RegistryError e : registry.getRegistryErrorList().getRegistryError()) {
                errors.add(new String[] {e.getErrorCode(), e.getSeverity(), e.getLocation()});
            }
        }
        Documents.report(registry == null ? "-" : registry.getStatus(), errors);
    }

    private static void save(DataHandler data, Path path) throws Exception {
        try (InputStream in = data.getInputStream()) {
            Files.copy(in, path);
        }
    }
}
