// sample plugin script
