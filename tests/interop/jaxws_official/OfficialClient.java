import ihe.rad.xdsi_b._2009.ImagingDocumentSourcePortType;
import ihe.rad.xdsi_b._2009.ImagingDocumentSourceService;
import java.net.URL;
import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.AddressingFeature;
import javax.xml.ws.soap.MTOMFeature;

/**
 * What an integrator with stubs from the OFFICIAL IHE XDS-I.b WSDL does: keep that WSDL (its address is a
 * placeholder) and set the endpoint address. The WSDL argument is ignored: the stubs' own copy is used.
 * The official schema has no wado:Anonymize, so this client cannot ask for it. -Dmtom=false sends plain SOAP 1.2.
 */
public final class OfficialClient {
    public static void main(String[] a) throws Exception {
        URL wsdl = OfficialClient.class.getResource("/wsdl/XDS-I.b_ImagingDocumentSource.wsdl");
        ImagingDocumentSourceService service = new ImagingDocumentSourceService(
            wsdl, new QName("urn:ihe:rad:xdsi-b:2009", "ImagingDocumentSource_Service"));
        ImagingDocumentSourcePortType port = service.getImagingDocumentSourcePortSoap12(
            new MTOMFeature(!"false".equals(System.getProperty("mtom"))), new AddressingFeature(true, true));
        ((BindingProvider) port).getRequestContext().put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, a[1]);
        Rad69Call.run(a, port, doc -> {
            throw new IllegalArgumentException("the official IHE schema has no Anonymize element");
        });
    }
}
