//! Connects the core's ports to the register client and the Kannel SMS
//! gateway of `okaz-registry`.

use async_trait::async_trait;
use okaz_protocol::{DocumentType, Pesel};
use okaz_registry::sms::KannelGateway;
use okaz_registry::{RegisterClient, RegistryError};

use okaz_core::ports::{
    Contact, Found, RegisterFailure, Registers, SmsFailure, SmsGateway, Subject,
};

/// The live registers, over HTTPS.
#[derive(Clone)]
pub struct LiveRegisters(pub RegisterClient);

fn failure(e: RegistryError) -> RegisterFailure {
    let register = e.register().unwrap_or("registry").to_string();
    match e {
        RegistryError::NotFound { .. } => RegisterFailure::NotFound(register),
        // Every other failure means no trustworthy answer: fail closed.
        other => RegisterFailure::Unavailable {
            register,
            reason: other.to_string(),
        },
    }
}

#[async_trait]
impl Registers for LiveRegisters {
    async fn contact(&self, pesel: &Pesel) -> Result<Contact, RegisterFailure> {
        let c = self.0.contact(pesel).await.map_err(failure)?;
        Ok(Contact {
            phone: c.phone.clone(),
            email: c.email.clone(),
            reserved: c.reserved,
        })
    }

    async fn document(
        &self,
        subject: &Subject,
        kind: DocumentType,
    ) -> Result<Found, RegisterFailure> {
        match subject {
            Subject::Pesel(pesel) => {
                let document = self.0.fetch_document(pesel, kind).await.map_err(failure)?;
                Ok(Found {
                    document,
                    owner: Some(pesel.clone()),
                })
            }
            Subject::IdCardNumber(number) => {
                let found = self
                    .0
                    .fetch_id_card_by_number(number)
                    .await
                    .map_err(failure)?;
                Ok(Found {
                    document: found.document,
                    owner: Some(found.holder),
                })
            }
            Subject::LicenceNumber(number) => {
                let found = self
                    .0
                    .fetch_licence_by_number(number)
                    .await
                    .map_err(failure)?;
                Ok(Found {
                    document: found.document,
                    owner: Some(found.holder),
                })
            }
            Subject::Plate(plate) => {
                let found = self.0.fetch_by_plate(plate, kind).await.map_err(failure)?;
                Ok(Found {
                    document: found.document,
                    owner: found.owner,
                })
            }
        }
    }
}

/// SMS through Kannel's `sendsms` interface.
#[derive(Clone)]
pub struct KannelSms(pub KannelGateway);

#[async_trait]
impl SmsGateway for KannelSms {
    async fn send(
        &self,
        phone: &str,
        text: &str,
        reference: Option<&str>,
    ) -> Result<(), SmsFailure> {
        self.0
            .send_with_reference(phone, text, reference)
            .await
            .map_err(|e| SmsFailure(e.to_string()))
    }
}
