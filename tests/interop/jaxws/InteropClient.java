import ihe.rad.xdsi_b._2009.ImagingDocumentSourcePortType;
import ihe.rad.xdsi_b._2009.ImagingDocumentSourceService;
import java.net.URL;
import javax.xml.namespace.QName;
import javax.xml.ws.soap.AddressingFeature;
import javax.xml.ws.soap.MTOMFeature;

/**
 * JAX-WS RI client from the WSDL wadows serves: SOAP 1.2 (the WSDL's only binding), MTOM on and
 * WS-Addressing required, as IHE ITI TF-2 Appendix V asks of a RAD-69 requester.
 */
public final class InteropClient {
    public static void main(String[] a) throws Exception {
        ImagingDocumentSourceService service = new ImagingDocumentSourceService(
            new URL(a[0]), new QName("urn:ihe:rad:xdsi-b:2009", "ImagingDocumentSource_Service"));
        ImagingDocumentSourcePortType port = service.getImagingDocumentSourcePortSoap12(
            new MTOMFeature(true), new AddressingFeature(true, true));
        Rad69Call.run(a, port, doc -> doc.setAnonymize("yes"));
    }
}
