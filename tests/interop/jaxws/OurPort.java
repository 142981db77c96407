import ihe.rad.xdsi_b._2009.ImagingDocumentSourcePortType;
import ihe.rad.xdsi_b._2009.ImagingDocumentSourceService;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import javax.xml.namespace.QName;
import javax.xml.ws.soap.AddressingFeature;
import javax.xml.ws.soap.MTOMFeature;
import oasis.names.tc.ebxml_regrep.xsd.rs._3.RegistryError;
import oasis.names.tc.ebxml_regrep.xsd.rs._3.RegistryResponseType;

/**
 * The port of stubs generated from the WSDL wadows serves: SOAP 1.2 (the WSDL's only binding), MTOM on and
 * WS-Addressing required, as IHE ITI TF-2 Appendix V asks of a requester; every operation uses the same.
 */
public final class OurPort {
    private OurPort() {}

    public static ImagingDocumentSourcePortType open(String wsdl) throws Exception {
        ImagingDocumentSourceService service = new ImagingDocumentSourceService(
            new URL(wsdl), new QName("urn:ihe:rad:xdsi-b:2009", "ImagingDocumentSource_Service"));
        return service.getImagingDocumentSourcePortSoap12(new MTOMFeature(true), new AddressingFeature(true, true));
    }

    public static void report(RegistryResponseType registry) {
        List<String[]> errors = new ArrayList<>();
        if (registry.getRegistryErrorList() != null) {
            for (RegistryError e : registry.getRegistryErrorList().getRegistryError()) {
                errors.add(new String[] {e.getErrorCode(), e.getSeverity(), e.getLocation()});
            }
        }
        Documents.report(registry.getStatus(), errors);
    }
}
