//! Thin Lambda calls: the code a deployed function runs (GetFunction), which a change set's
//! function is compared with.

use crate::aws::{AwsError, AwsResultExt};
use crate::plan::changes::DeployedCode;

/// The code the function runs: its zip's `CodeSha256`, or the digest of its image (from the
/// resolved or the given image URI); None when the function is not there.
pub async fn deployed_code(
    client: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Option<DeployedCode>, AwsError> {
    let result = client
        .get_function()
        .function_name(function)
        .send()
        .await
        .aws("Lambda GetFunction");
    let output = match result {
        Ok(output) => output,
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(None),
        Err(e) => return Err(e),
    };
    let image = output
        .configuration()
        .and_then(|c| c.package_type())
        .is_some_and(|t| t.as_str() == "Image");
    if image {
        let code = output.code();
        let digest = [
            code.and_then(|c| c.resolved_image_uri()),
            code.and_then(|c| c.image_uri()),
        ]
        .into_iter()
        .flatten()
        .find_map(|uri| uri.split_once('@').map(|(_, digest)| digest.to_string()));
        return Ok(Some(DeployedCode::Image { digest }));
    }
    Ok(output
        .configuration()
        .and_then(|c| c.code_sha256())
        .map(|sha256| DeployedCode::Zip {
            sha256: sha256.to_string(),
        }))
}
