def handler(event, context):
    return {"message": "hello from a zip function deployed by samrs"}
